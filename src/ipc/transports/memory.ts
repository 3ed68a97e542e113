import type { Envelope } from '../../contract/envelope.js';
import type { Link } from './link.js';

/**
 * When a link hands its peer what was sent to it: in a microtask, or once the event loop's
 * poll phase has ended (`setImmediate`), all that arrived meanwhile together.
 */
type Delivery = 'microtask' | 'poll-end';

/**
 * In-process link pair for direct mode and unit tests: the same envelope path as the
 * process transports without a process. Delivery is never synchronous, so ordering and
 * re-entrancy match a real transport's.
 */
class MemoryLink implements Link {
  peer!: MemoryLink;
  private handler: ((e: Envelope) => void) | undefined;
  private readonly closeHandlers: ((reason: string) => void)[] = [];
  private open = true;
  /**
   * Envelopes waiting for delivery: the first in its own field, any others after it in
   * `rest`, so a lone envelope (a reply in its microtask) allocates no array.
   */
  private first: Envelope | undefined;
  private rest: Envelope[] = [];
  private spare: Envelope[] = [];
  readonly congested = false;

  readonly transport = 'memory';

  constructor(
    readonly name: string,
    private readonly delivery: Delivery,
  ) {}

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
    if (this.delivery === 'poll-end') setImmediate(this.drainInbox);
    // A reaction on a settled promise rather than queueMicrotask, which wraps every callback
    // in an AsyncResource and a bound function: those two per request (one each way) were
    // 420 of the 1,500 bytes a forward route allocated over an inline one. The callback
    // does not throw (see drainInbox), so no rejection can come of it.
    else SETTLED.then(this.drainInbox);
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

/**
 * Two connected in-process links, the web side's and the engine's: what one sends, the
 * other receives. What the web side sends reaches the engine once the poll phase has
 * ended, all of a turn's requests together, as frames leave a web process's pipe; the
 * engine's answers come back in a microtask. So a turn's requests are read, parsed and
 * admitted first, the engine works through them together, and their responses are
 * written one after another. Delivering each request in its own microtask (in its socket's
 * callback) measured 0.81-0.87x plain Fastify at echo c=64 on the development VM; this
 * 1.03-1.17x (four interleaved rounds), with the same p50 at one connection. Mostly
 * scheduling, not a cheaper hop: with wrk on the same two cores, responses written
 * together wake it less often, and a plain Fastify handler that defers its reply to
 * `setImmediate` measured 1.3x plain Fastify there.
 */
export function memoryLinkPair(): [web: Link, engine: Link] {
  const a = new MemoryLink('memory:web', 'microtask');
  const b = new MemoryLink('memory:engine', 'poll-end');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
