import type { AppinfraError } from '../errors/index.js';

/**
 * Consumer side of one engine stream: chunks are buffered only up to the credit window
 * the engine was granted, and credit is returned as the consumer pulls, so a slow
 * client slows the engine instead of growing memory.
 */
export class ChunkStream implements AsyncIterableIterator<unknown> {
  private readonly buffer: unknown[] = [];
  private done = false;
  private error: AppinfraError | undefined;
  private wake: ((r: IteratorResult<unknown>) => void) | undefined;
  private wakeErr: ((e: unknown) => void) | undefined;
  private consumed = 0;
  private finished = false;

  constructor(
    private readonly window: number,
    private readonly grant: (n: number) => void,
    private readonly abandon: () => void,
  ) {}

  /** Chunks held here right now (bounded by the window in a well-behaved engine). */
  get buffered(): number {
    return this.buffer.length;
  }

  push(chunk: unknown): void {
    if (this.finished) return;
    if (this.wake) {
      const wake = this.wake;
      this.wake = this.wakeErr = undefined;
      this.taken();
      wake({ value: chunk, done: false });
    } else {
      this.buffer.push(chunk);
    }
  }

  end(): void {
    this.done = true;
    this.release();
  }

  fail(err: AppinfraError): void {
    this.error = err;
    this.done = true;
    this.release();
  }

  private release(): void {
    if (!this.wake || this.buffer.length > 0) return;
    const wake = this.wake;
    const wakeErr = this.wakeErr!;
    this.wake = this.wakeErr = undefined;
    this.finished = true;
    if (this.error) wakeErr(this.error);
    else wake({ value: undefined, done: true });
  }

  private taken(): void {
    // Return credit in halves of the window: fewer credit messages, no stall.
    if (++this.consumed >= Math.max(1, this.window >> 1)) {
      const n = this.consumed;
      this.consumed = 0;
      if (!this.done) this.grant(n);
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.buffer.length > 0) {
      const value = this.buffer.shift();
      this.taken();
      return Promise.resolve({ value, done: false });
    }
    if (this.done || this.finished) {
      this.finished = true;
      if (this.error) {
        const err = this.error;
        this.error = undefined;
        return Promise.reject(err);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.wake = resolve;
      this.wakeErr = reject;
    });
  }

  /** The consumer stopped early (break, client gone): tell the engine and drop what is buffered. */
  return(): Promise<IteratorResult<unknown>> {
    if (!this.finished) {
      this.finished = true;
      this.buffer.length = 0;
      if (!this.done) this.abandon();
      this.done = true;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
