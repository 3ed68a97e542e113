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
  private inbox: Envelope[] = [];
  private scheduled = false;
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
    this.inbox.push(envelope);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drainInbox());
  }

  private drainInbox(): void {
    this.scheduled = false;
    const batch = this.inbox;
    this.inbox = [];
    for (const e of batch) {
      if (!this.open) return;
      this.handler?.(e);
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
    this.inbox = [];
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
