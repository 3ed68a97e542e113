import type { PendingRequest } from './pending.js';

/** How a lane ends a request: the engine's own reply and failure paths (logging, stats). */
export interface Settle {
  done(p: PendingRequest, value: unknown): void;
  failed(p: PendingRequest, err: unknown): void;
  /** Runs a plain handler for `p` as the engine runs any handler (values, promises, streams). */
  run(p: PendingRequest, payload: unknown): void;
}

/**
 * A handler that schedules its requests itself (a concurrency limit, a batcher, a step
 * loop): the engine hands it every request for its name and learns of none of its rules.
 */
export interface Lane {
  submit(payload: unknown, p: PendingRequest): void;
  /** Called once per request it took, when that request ended (reply, error, cancel). */
  finished(p: PendingRequest): void;
}

export const positive = (n: number | undefined, fallback: number): number => (n !== undefined && Number.isFinite(n) && n > 0 ? n : fallback);
