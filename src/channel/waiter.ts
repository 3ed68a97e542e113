import type { AppinfraError } from '../errors.js';

/**
 * One request awaiting the engine. It ends exactly once (reply, error, timeout, client
 * gone, channel closed) and is removed from the table at that moment; `end` owns the
 * cleanup of its timer and abort listener so none outlives it.
 */
export interface Waiter {
  readonly id: string;
  onReply(payload: unknown): void;
  onChunk(payload: unknown): void;
  onEnd(payload: unknown): void;
  /** Ends the waiter with an error; `notifyEngine` says whether the engine must be told to cancel. */
  fail(err: AppinfraError, notifyEngine: boolean): void;
}
