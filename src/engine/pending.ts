import type { Envelope, Port } from '../contract/envelope.js';
import type { Link } from '../ipc/transports/link.js';
import { ClientGoneError, EncodeError, toWireError } from '../errors/index.js';
import type { EngineContext } from './context.js';
import type { Lane } from './lane.js';
import type { Logger } from 'pino';
import type { Span } from '@opentelemetry/api';
import { traceIdOf } from '../observability/trace-context.js';

/** How a request ended: its last envelope was a reply or an error, or nothing was sent (cancel, lost link). */
export type Outcome = 'completed' | 'failed' | 'aborted';

/** What the engine learns from a request it owns. */
export interface PendingHooks {
  /** Called once, when the request ends. */
  finished(p: PendingRequest, outcome: Outcome): void;
  /** A reply or chunk the codec could not encode: the request was failed with a generic 500 instead. */
  unsendable(p: PendingRequest, err: EncodeError): void;
  /** The engine's logger: `ctx.log` is its child bound to the request's ids. */
  logger(): Logger;
}

/** What `enqueue` returns for a chunk that went out at once. */
const SENT: Promise<void> = Promise.resolve();

/** What the client gets for an answer that could not be sent: nothing about the value, which may hold secrets. */
const UNSENDABLE = toWireError(undefined);

interface Outgoing {
  chunk: unknown;
  final: boolean;
  resolve: () => void;
}

/**
 * One request the engine is working on, remembered with the link its answer goes back
 * on (the reply router's table row). It owns its abort controller and its stream credit.
 */
export class PendingRequest implements EngineContext {
  readonly id: string;
  /** Its place in the engine's table of requests in flight (owned by `SeqTable`). */
  slot = -1;
  readonly route: string | undefined;
  readonly port: Port;
  readonly replyTo: string;
  readonly deadline: number | undefined;
  readonly traceparent: string | undefined;
  readonly isStream: boolean;
  /** The web side writes the answer as JSON (an HTTP body, SSE events): replies travel as JSON text. */
  private readonly json: boolean;
  done = false;
  /** The limiter or batcher that scheduled this request: told when it ends. */
  lane: Lane | undefined;
  /** Holds one of its limiter's slots (engine/limiter.ts). */
  holdsSlot = false;
  /** Chunks a JSON caller receives as one array when the handler streams anyway. */
  collected: unknown[] | undefined;
  /** performance.now() when it reached the engine and when a handler took it (0: not observed). */
  arrived = 0;
  taken = 0;
  /** Stream chunks sent, and how often the stream ran out of credit with chunks waiting (a slow client). */
  chunks = 0;
  stalls = 0;
  /** The engine's span for this request, when a tracer provider is registered. */
  span: Span | undefined;
  private controller: AbortController | undefined;
  private logger: Logger | undefined;
  private credits: number;
  private backlog: Outgoing[] = [];

  constructor(
    envelope: Envelope,
    readonly link: Link,
    private readonly hooks: PendingHooks,
  ) {
    this.id = envelope.id;
    this.route = envelope.route;
    this.port = envelope.port ?? 'request';
    this.replyTo = envelope.replyTo ?? 'unknown';
    this.deadline = envelope.deadline;
    this.traceparent = envelope.traceparent;
    this.isStream = envelope.stream === true;
    this.json = envelope.wantJson === true;
    this.credits = envelope.window ?? Number.POSITIVE_INFINITY;
  }

  get signal(): AbortSignal {
    // Created on first use: most handlers never look, and a controller per request costs.
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** A pino child of the engine's logger bound to this request's correlation id and trace id. */
  get log(): Logger {
    this.logger ??= this.hooks.logger().child({ reqId: this.id, ...(this.traceparent ? { traceId: traceIdOf(this.traceparent) } : {}) });
    return this.logger;
  }

  /** A chunk marked `isFinal: true` is the stream's last (the seed's queue style, and handlers that yield one). */
  send(chunk: unknown): Promise<void> {
    return this.enqueue(chunk, isFinalChunk(chunk));
  }

  /** A stream chunk, or with `final` the last one (sent as `end`). */
  enqueue(chunk: unknown, final: boolean): Promise<void> {
    return this.offer(chunk, final) ?? SENT;
  }

  /**
   * `enqueue` for the engine's own stream loop: undefined when the chunk went out (or was
   * dropped) at once, so the loop goes on without a promise or a turn of its own per chunk;
   * otherwise a promise that resolves once credit let it out.
   */
  offer(chunk: unknown, final: boolean): Promise<void> | undefined {
    if (this.done) return undefined;
    if (!this.isStream) {
      (this.collected ??= []).push(chunk);
      if (final) this.reply(this.collected);
      return undefined;
    }
    // Credit and nothing queued (a client that keeps up): straight out, no backlog entry.
    if (this.credits > 0 && this.backlog.length === 0) {
      this.out(chunk, final);
      return undefined;
    }
    return new Promise((resolve) => {
      this.backlog.push({ chunk, final, resolve });
      this.pump();
    });
  }

  /** Ends the stream without a final chunk payload. */
  endStream(payload?: unknown): void {
    if (this.done) return;
    if (this.backlog.length === 0) {
      this.finish({ kind: 'end', id: this.id, payload });
    } else {
      void this.enqueue(payload, true);
    }
  }

  grant(n: number): void {
    this.credits += n;
    this.pump();
  }

  reply(payload: unknown): void {
    if (this.done) return;
    if (this.isStream) {
      this.endStream(payload);
      return;
    }
    this.finish({ kind: 'response', id: this.id, payload });
  }

  fail(payload: unknown): void {
    if (this.done) return;
    this.finish({ kind: 'error', id: this.id, payload });
  }

  /** The web side cancelled (timeout, client gone) or its process was lost: abort, drop, forget. */
  abort(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.release();
    this.controller?.abort(new ClientGoneError(`Request ${this.id} cancelled: ${reason}`));
    this.hooks.finished(this, 'aborted');
  }

  private pump(): void {
    while (this.backlog.length > 0 && this.credits > 0 && !this.done) {
      const o = this.backlog.shift()!;
      this.out(o.chunk, o.final);
      o.resolve();
    }
    // Out of credit with chunks waiting: the client is slower than the handler.
    if (this.credits <= 0 && this.backlog.length > 0 && !this.done && !this.parked) {
      this.parked = true;
      this.stalls++;
    } else if (this.credits > 0) {
      this.parked = false;
    }
  }

  private parked = false;

  /** Lets every chunk still waiting for credit go (dropped): their senders go on. */
  private release(): void {
    if (this.backlog.length !== 0) for (const o of this.backlog.splice(0)) o.resolve();
  }

  /** Sends one chunk, or the last one as `end`; the caller checked there is credit. */
  private out(chunk: unknown, final: boolean): void {
    if (final) {
      this.finish({ kind: 'end', id: this.id, payload: chunk });
    } else if (this.trySend({ kind: 'chunk', id: this.id, payload: chunk })) {
      this.credits--;
      this.chunks++;
    }
  }

  private finish(envelope: Envelope): void {
    this.done = true;
    this.release();
    const sent = this.trySend(envelope);
    if (sent) this.hooks.finished(this, envelope.kind === 'error' ? 'failed' : 'completed');
  }

  /**
   * Sends one envelope of this request. When the codec cannot encode it, nothing of it was
   * queued (the link is intact): this request alone ends with a generic 500, which the
   * web side shows as a 500 or, once a stream's headers are out, as its error event; the
   * handler's signal aborts so a stream stops producing. Returns whether it was sent.
   */
  private trySend(envelope: Envelope): boolean {
    if (this.json && envelope.kind !== 'error') envelope.json = true;
    try {
      this.link.send(envelope);
      return true;
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      this.done = true;
      this.release();
      this.hooks.unsendable(this, err);
      this.link.send({ kind: 'error', id: this.id, payload: { ...UNSENDABLE } });
      this.controller?.abort(err);
      this.hooks.finished(this, 'failed');
      return false;
    }
  }
}

export function isFinalChunk(chunk: unknown): boolean {
  return !!chunk && typeof chunk === 'object' && (chunk as { isFinal?: unknown }).isFinal === true;
}
