import type { Envelope } from '../../contract/envelope.js';
import type { Link } from './link.js';

/**
 * In-process link pair for direct mode and unit tests: the same envelope path as the
 * process transports without a process. Delivery is deferred to a microtask so that
 * ordering and re-entrancy match a real transport.
 */
class MemoryLink implements Link {
  peer!: MemoryLink;
  private handler: ((e: Envelope) => void) | undefined;
  private readonly closeHandlers: ((reason: string) => void)[] = [];
  private open = true;
  /**
   * Envelopes waiting for the next microtask: the first in its own field, any others after
   * it in `rest`. A request and its reply are each alone in their turn (the engine answers
   * before the next request is read), so the common case allocates no array at all.
   */
  private first: Envelope | undefined;
  private rest: Envelope[] = [];
  private spare: Envelope[] = [];
  readonly congested = false;

  readonly transport = 'memory';

  constructor(readonly name: string) {}

  get isOpen(): boolean {
    return this.open;
  }

  send(envelope: Envelope): void {
    if (!this.open) return;
    this.peer.deliver(envelope);
  }

  private deliver(envelope: Envelope): void {
    if (this.first !== undefined) {
      this.rest.push(envelope);
      return;
    }
    this.first = envelope;
    // A reaction on a settled promise rather than queueMicrotask, which wraps every callback
    // in an AsyncResource and a bound function: those two per request (one each way) were
    // 420 of the 1,500 bytes a forward route allocated over an inline one. The callback
    // does not throw (see drainInbox), so no rejection can come of it.
    SETTLED.then(this.drainInbox);
  }

  private readonly drainInbox = (): void => {
    try {
      this.drain();
    } catch (err) {
      // A handler's throw is the process's uncaught exception, as it was from queueMicrotask,
      // not a rejection of a promise nobody holds.
      process.nextTick(rethrow, err);
    }
  };

  private drain(): void {
    const first = this.first;
    if (first === undefined) return;
    this.first = undefined;
    const rest = this.rest;
    if (rest.length === 0) {
      if (this.open) this.handler?.(first);
      return;
    }
    // What arrives while this batch is handled waits for the next microtask, in `spare`.
    this.rest = this.spare;
    this.spare = rest;
    try {
      if (!this.open) return;
      this.handler?.(first);
      for (const e of rest) {
        if (!this.open) return;
        this.handler?.(e);
      }
    } finally {
      rest.length = 0;
    }
  }

  onMessage(handler: (e: Envelope) => void): void {
    this.handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  close(reason = 'closed'): void {
    if (!this.open) return;
    this.open = false;
    this.first = undefined;
    this.rest.length = 0;
    for (const h of this.closeHandlers) h(reason);
    this.peer.close('peer closed');
  }
}

const SETTLED = Promise.resolve();

function rethrow(err: unknown): never {
  throw err;
}

/** Two connected in-process links: what one sends, the other receives. */
export function memoryLinkPair(): [Link, Link] {
  const a = new MemoryLink('memory:a');
  const b = new MemoryLink('memory:b');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
