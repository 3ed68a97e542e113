import type { Envelope } from '../contract/envelope.js';
import { type AppinfraError, DecodeError } from '../errors/index.js';
import type { IPCChannel } from './channel.js';
import { ChunkStream } from './stream.js';
import { Waiter } from './waiter.js';

/** A received payload whose bytes do not decode: the request's error (a generic 500), never a crash. */
export class UnreadablePayload {
  readonly error: AppinfraError;
  constructor(cause: unknown) {
    this.error = new DecodeError(cause);
  }
}

/** Reads a received payload: its value, or `UnreadablePayload`. Nothing is made for a payload that reads (one per reply). */
export function payloadOf(e: Envelope): unknown {
  try {
    return e.payload;
  } catch (err) {
    return new UnreadablePayload(err);
  }
}

/**
 * Ties an optional AbortSignal (a route module's own) to a waiter: aborting cancels the
 * request. The listener is removed when the request ends, so none outlives it.
 */
abstract class SignalledWaiter extends Waiter {
  private readonly onAbort: (() => void) | undefined;

  constructor(
    protected readonly channel: IPCChannel,
    private readonly signal: AbortSignal | undefined,
  ) {
    super();
    if (signal) {
      this.onAbort = () => channel.cancel(this);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  protected release(): void {
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

/** `channel.submit()`: one reply, as a promise. */
export class CallWaiter extends SignalledWaiter {
  readonly promise: Promise<unknown>;
  private resolve!: (v: unknown) => void;
  private reject!: (err: unknown) => void;

  constructor(channel: IPCChannel, signal: AbortSignal | undefined) {
    super(channel, signal);
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  receive(e: Envelope): void {
    this.release();
    const value = payloadOf(e);
    if (value instanceof UnreadablePayload) this.reject(value.error);
    else this.resolve(value);
  }

  failed(err: AppinfraError): void {
    this.release();
    this.reject(err);
  }
}

/** `channel.submitStreaming()`: the engine's chunks as an async iterator, with credit returned as they are taken. */
export class StreamWaiter extends SignalledWaiter {
  readonly stream: ChunkStream;

  constructor(
    channel: IPCChannel,
    private readonly windowSize: number,
    signal: AbortSignal | undefined,
  ) {
    super(channel, signal);
    this.stream = new ChunkStream(
      windowSize,
      (n) => channel.credit(this, n),
      () => channel.cancel(this),
    );
  }

  override get window(): number {
    return this.windowSize;
  }

  receive(e: Envelope): void {
    const value = payloadOf(e);
    if (value instanceof UnreadablePayload) {
      if (!this.ended) this.channel.cancel(this);
      this.release();
      this.stream.fail(value.error);
      return;
    }
    if (value !== undefined || e.kind === 'chunk') this.stream.push(value);
    if (e.kind !== 'chunk') {
      this.release();
      this.stream.end();
    }
  }

  failed(err: AppinfraError): void {
    this.release();
    this.stream.fail(err);
  }
}
