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
    queueMicrotask(this.drainInbox);
  }

  private readonly drainInbox = (): void => {
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
  };

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

/** Two connected in-process links: what one sends, the other receives. */
export function memoryLinkPair(): [Link, Link] {
  const a = new MemoryLink('memory:a');
  const b = new MemoryLink('memory:b');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
