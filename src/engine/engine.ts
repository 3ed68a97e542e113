import type { Envelope } from '../contract/envelope.js';
import type { Link } from '../ipc/transports/link.js';
import { pino, type Logger } from 'pino';
import { AppinfraError, BuildError, DecodeError, EngineError, toWireError, type EncodeError } from '../errors/index.js';
import type { EngineHandler } from './context.js';
import { PendingRequest, isFinalChunk, type PendingHooks } from './pending.js';
import { readResponseItem } from './response-item.js';
import type { Queue } from './queue.js';
import { SeqTable } from '../channel/seq-table.js';
import { channels } from '../observability/diagnostics.js';
import { Batcher, type BatchHandler, type BatchOptions } from './batcher.js';
import { summarize, type HandlerStats } from './handler-stats.js';
import type { Lane, Settle } from './lane.js';
import { Limiter, type LimitOptions } from './limiter.js';
import { StepLoop, type StepHandler } from './steps.js';
import { engineSpan, endEngineSpan } from '../observability/engine-span.js';
import { isTracing, otel } from '../observability/tracing.js';
import type { Outcome } from './pending.js';

/** What a metrics exporter learns of each request the engine ends (set with `engine.observe`). */
export interface EngineObserver {
  /** `p.arrived`/`p.taken` are performance.now() stamps: queue wait is taken - arrived, handler time now - taken. */
  finished(p: PendingRequest, outcome: Outcome): void;
}

export interface EngineStats {
  received: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Requests lost with their web process (crash, exit). */
  lostWithLink: number;
  /** Stream chunks sent to web processes. */
  chunks: number;
  /** Times a stream ran out of credit with chunks waiting (a slow client parked it). */
  creditStalls: number;
  /** Replies put for an id that is not pending (already cancelled, or never seen): dropped. */
  dropped: number;
}

/** How stale the handler figures a web process shows in `/_health` may be. */
const FIGURES_MS = 200;

/**
 * Takes the requests for some routes to other processes (process groups). The engine
 * hands it those requests, the cancels and credits of requests it holds, and the loss of
 * a web process's link; it answers over the link the request came from.
 */
export interface EngineRelay {
  serves(route: string): boolean;
  request(link: Link, e: Envelope): void;
  /** A cancel or credit for a request the engine does not hold itself. */
  control(link: Link, e: Envelope): void;
  linkClosed(link: Link): void;
}

/**
 * The main process's side: takes requests from every web process link, hands them to
 * a registered handler or to the user's request queue, and routes each reply back over
 * the link its request came from (seed-000 `reply_to`).
 */
export class Engine {
  private readonly handlers = new Map<string, EngineHandler>();
  /** Handlers that schedule their own requests: concurrency limits, batchers, step loops. */
  private readonly lanes = new Map<string, Lane & { readonly stats: HandlerStats }>();
  private fallback: EngineHandler | undefined;
  /** Requests in flight by id: not a Map (see ../channel/id-table.ts: a Map here kept every finished request alive past a scavenge). */
  private readonly pending = new SeqTable<PendingRequest>();
  private readonly links = new Set<Link>();
  /** The one timer that sends handler figures to the web processes a moment after activity. */
  private figuresTimer: NodeJS.Timeout | undefined;
  private relay: EngineRelay | undefined;
  readonly stats: EngineStats = { received: 0, completed: 0, failed: 0, cancelled: 0, lostWithLink: 0, dropped: 0, chunks: 0, creditStalls: 0 };
  private observer: EngineObserver | undefined;

  /** Where unexpected handler failures are logged, with their stack (the client sees a generic 500). */
  readonly logger: Logger;

  constructor(
    readonly requestQ?: Queue<any>,
    readonly responseQ?: Queue<any>,
    logger?: Logger,
  ) {
    this.logger = logger ?? pino({ name: 'engine', level: 'warn' });
    responseQ?.setSink((item) => this.putResponse(item));
  }

  /**
   * Tells `observer` about every request's end, with its timings (one observer: the
   * server's metrics). Until then no timestamp is taken per request.
   */
  observe(observer: EngineObserver | undefined): void {
    this.observer = observer;
    this.requestQ?.onTake(
      observer
        ? (item: unknown) => {
            const id = item && typeof item === 'object' ? (item as { id?: unknown }).id : undefined;
            const p = id === undefined ? undefined : this.pending.get(String(id));
            if (p && p.taken === 0) p.taken = performance.now();
          }
        : undefined,
    );
  }

  /**
   * Registers an engine handler. `handle(fn)` serves every request that no named handler
   * takes; `handle(name, fn)` serves forward routes whose `handler` is `name`.
   */
  handle(handler: EngineHandler): this;
  handle(name: string, handler: EngineHandler, limits?: LimitOptions): this;
  handle(nameOrHandler: string | EngineHandler, maybe?: EngineHandler, limits?: LimitOptions): this {
    if (typeof nameOrHandler === 'function') {
      this.fallback = nameOrHandler;
      return this;
    }
    if (typeof maybe !== 'function') throw new BuildError(`engine.handle("${nameOrHandler}", fn): fn must be a function`);
    this.handlers.set(nameOrHandler, maybe);
    this.lanes.delete(nameOrHandler);
    // With limits: at most `concurrency` at once, the others in a bounded queue (503 when it is full).
    if (limits) this.lanes.set(nameOrHandler, new Limiter(nameOrHandler, limits, this.settle));
    return this;
  }

  /**
   * Registers a batch handler (dynamic batching): requests for `name` that arrive within
   * `maxWaitMs` of the first, up to `maxBatchSize`, are handed over together; result `i`
   * (or an Error, which fails that request alone) answers request `i`.
   */
  handleBatch<Req = any, Res = unknown>(name: string, handler: BatchHandler<Req, Res>, options: BatchOptions = {}): this {
    this.handlers.delete(name);
    this.lanes.set(name, new Batcher(name, handler as BatchHandler, options, this.settle));
    return this;
  }

  /**
   * Registers a step handler (continuous batching): `start` makes a sequence of each
   * request, `step` advances every active sequence by one chunk; new requests join
   * between steps, finished and cancelled ones leave.
   */
  handleSteps<Req = any, Seq = any, Chunk = unknown>(name: string, handler: StepHandler<Req, Seq, Chunk>): this {
    this.handlers.delete(name);
    this.lanes.set(name, new StepLoop(name, handler as StepHandler, this.settle));
    return this;
  }

  /** Routes the relay serves go on to other processes (process groups) instead of a handler here. */
  useRelay(relay: EngineRelay): void {
    this.relay = relay;
  }

  /** Names of the registered handlers (for the route table and config checks). */
  get handlerNames(): string[] {
    return [...new Set([...this.handlers.keys(), ...this.lanes.keys()])];
  }

  hasHandler(name: string): boolean {
    return this.handlers.has(name) || this.lanes.has(name) || !!this.relay?.serves(name) || !!this.fallback || !!this.requestQ;
  }

  /**
   * Queue and batch figures of every limited, batching or step handler, by name: live
   * objects whose counters only grow (for metrics); `summary: true` gives means for `/_health`.
   */
  handlerStats(): Record<string, HandlerStats>;
  handlerStats(options: { summary: true }): Record<string, Record<string, number | string>>;
  handlerStats(options?: { summary?: boolean }): Record<string, HandlerStats> | Record<string, Record<string, number | string>> {
    const out: Record<string, any> = {};
    for (const [name, lane] of this.lanes) out[name] = options?.summary ? summarize(lane.stats) : lane.stats;
    return out;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Streams the engine is sending now. */
  get openStreams(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.isStream) n++;
    return n;
  }

  /** Pending requests per web process (reply-to address). */
  pendingByReplyTo(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.pending.values()) out[p.replyTo] = (out[p.replyTo] ?? 0) + 1;
    return out;
  }

  /** Starts serving a web process's link; when it closes, its requests are failed and removed. */
  attach(link: Link, replyTo = link.name): void {
    this.links.add(link);
    link.onMessage((e) => this.onEnvelope(link, e));
    link.onClose(() => {
      this.links.delete(link);
      if (this.links.size === 0 && this.figuresTimer) {
        clearTimeout(this.figuresTimer);
        this.figuresTimer = undefined;
      }
      this.relay?.linkClosed(link);
      let lost = 0;
      for (const p of this.pending.values()) {
        if (p.link === link) {
          lost++;
          p.abort('web process lost');
        }
      }
      this.stats.lostWithLink += lost;
      if (channels.link.hasSubscribers) channels.link.publish({ replyTo, up: false, lost });
    });
    if (channels.link.hasSubscribers) channels.link.publish({ replyTo, up: true, lost: 0 });
  }

  /** Fails a request taken from the request queue: the client gets the error's status. */
  fail(id: string, error: unknown): void {
    const p = this.pending.get(id);
    if (!p) {
      this.stats.dropped++;
      return;
    }
    p.fail(toWireError(error));
  }

  /** The AbortSignal of a queued request: aborts when its client is gone or its deadline passed. */
  signalFor(id: string): AbortSignal | undefined {
    return this.pending.get(id)?.signal;
  }

  /**
   * Every request's end is counted here, once its last envelope went out: a reply the
   * codec refused counts as failed, not completed.
   */
  private readonly hooks: PendingHooks = {
    logger: () => this.logger,
    finished: (p, outcome) => {
      this.pending.delete(p);
      if (p.lane) {
        p.lane.finished(p);
        this.figuresSoon();
      }
      if (outcome === 'completed') this.stats.completed++;
      else if (outcome === 'failed') this.stats.failed++;
      if (p.chunks !== 0) this.stats.chunks += p.chunks;
      if (p.stalls !== 0) this.stats.creditStalls += p.stalls;
      if (p.span !== undefined) endEngineSpan(p, outcome);
      this.observer?.finished(p, outcome);
    },
    unsendable: (p, err: EncodeError) => {
      this.logger.error(
        { err, codec: err.codec, reason: err.reason, id: p.id, route: p.route, replyTo: p.replyTo },
        'engine handler\'s answer could not be encoded: the request failed with a 500',
      );
    },
  };

  /**
   * Web processes answer `/_health` themselves, without asking this (maybe busy) process:
   * the figures of limited and batching handlers go to them as a control envelope, at most
   * every FIGURES_MS while requests come and go, and once after the last change.
   */
  private figuresSoon(): void {
    if (this.figuresTimer || this.links.size === 0) return;
    this.figuresTimer = setTimeout(() => {
      this.figuresTimer = undefined;
      const payload = { type: 'handlers', handlers: this.handlerStats({ summary: true }) };
      for (const link of this.links) link.send({ kind: 'control', id: 'engine-handlers', payload });
    }, FIGURES_MS);
    this.figuresTimer.unref();
  }

  /** How lanes end and run requests: the same paths as every other handler's. */
  private readonly settle: Settle = {
    done: (p, value) => this.done(p, value),
    failed: (p, err) => this.failed(p, err),
    run: (p, payload) => this.run(this.handlers.get(p.route!)!, payload, p),
  };

  private onEnvelope(link: Link, e: Envelope): void {
    switch (e.kind) {
      case 'request':
        if (this.relay && e.route !== undefined && this.relay.serves(e.route)) this.relay.request(link, e);
        else this.onRequest(link, e);
        return;
      case 'cancel': {
        const p = this.pending.get(e.id);
        if (p && p.link === link) {
          this.stats.cancelled++;
          p.abort('cancelled by the web process');
        } else this.relay?.control(link, e);
        return;
      }
      case 'credit': {
        const p = this.pending.get(e.id);
        if (p && p.link === link) p.grant(e.window ?? 0);
        else this.relay?.control(link, e);
        return;
      }
      default:
        return;
    }
  }

  private onRequest(link: Link, e: Envelope): void {
    this.stats.received++;
    const p = new PendingRequest(e, link, this.hooks);
    if (!this.pending.tryAdd(p)) {
      link.send({ kind: 'error', id: e.id, payload: toWireError(new EngineError(409, `A request with id "${e.id}" is already in progress`, 'DUPLICATE_ID')) });
      return;
    }
    if (this.observer !== undefined) p.arrived = performance.now();
    if (isTracing()) p.span = engineSpan(p);
    let payload: unknown;
    try {
      payload = e.payload;
    } catch (err) {
      if (err instanceof AppinfraError && err.status < 500) {
        // The client's own body, which the web process passed on unparsed, is not JSON: its 400.
        this.logger.debug({ id: p.id, route: p.route, code: err.code }, err.message);
        p.fail(toWireError(err));
        return;
      }
      // Bytes that do not decode (a codec mismatch, a damaged frame): this request fails, the link stays.
      this.logger.error({ err, id: p.id, route: p.route, replyTo: p.replyTo }, 'request payload could not be decoded');
      p.fail(toWireError(new DecodeError(err)));
      return;
    }
    const lane = p.route !== undefined ? this.lanes.get(p.route) : undefined;
    if (lane) {
      if (channels.dispatch.hasSubscribers) channels.dispatch.publish({ id: p.id, route: p.route, replyTo: p.replyTo, via: 'handler' });
      p.lane = lane;
      lane.submit(payload, p);
      this.figuresSoon();
      return;
    }
    const handler = (p.route !== undefined ? this.handlers.get(p.route) : undefined) ?? this.fallback;
    if (handler) {
      if (channels.dispatch.hasSubscribers) channels.dispatch.publish({ id: p.id, route: p.route, replyTo: p.replyTo, traceparent: p.traceparent, via: 'handler' });
      if (p.arrived !== 0) p.taken = performance.now();
      // The handler's own spans (and the SDK's auto-instrumentation) nest under the engine's span.
      if (p.span !== undefined) {
        const { context, trace } = otel();
        context.with(trace.setSpan(context.active(), p.span), () => this.run(handler, payload, p));
      } else this.run(handler, payload, p);
      return;
    }
    if (this.requestQ) {
      if (channels.dispatch.hasSubscribers) channels.dispatch.publish({ id: p.id, route: p.route, replyTo: p.replyTo, traceparent: p.traceparent, via: 'queue' });
      if (payload && typeof payload === 'object' && !Array.isArray(payload) && (payload as { id?: unknown }).id === undefined) {
        (payload as { id: string }).id = p.id;
      }
      void this.requestQ.put(payload).catch((err) => p.fail(toWireError(err)));
      return;
    }
    p.fail(toWireError(new EngineError(501, `No engine handler for "${p.route ?? '(default)'}"`, 'NO_HANDLER')));
  }

  private run(handler: EngineHandler, payload: unknown, p: PendingRequest): void {
    let result: unknown;
    try {
      result = handler(payload, p);
    } catch (err) {
      this.failed(p, err);
      return;
    }
    if (isAsyncIterable(result)) {
      void this.drain(result, p);
    } else if (isThenable(result)) {
      result.then(
        (value) => this.done(p, value),
        (err) => this.failed(p, err),
      );
    } else {
      this.done(p, result);
    }
  }

  private async drain(iterable: AsyncIterable<unknown>, p: PendingRequest): Promise<void> {
    const it = iterable[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        if (p.done) {
          await it.return?.();
          return;
        }
        const wait = p.offer(r.value, isFinalChunk(r.value));
        if (wait !== undefined) await wait;
      }
      if (p.isStream) p.endStream();
      else p.reply(p.collected ?? []);
    } catch (err) {
      this.failed(p, err);
    }
  }

  private done(p: PendingRequest, value: unknown): void {
    if (p.done) {
      this.stats.dropped++;
      return;
    }
    if (p.isStream) p.endStream(value);
    else p.reply(value === undefined && p.collected ? p.collected : value);
  }

  private failed(p: PendingRequest, err: unknown): void {
    if (p.done) return;
    if (!(err instanceof AppinfraError)) this.logger.error({ err, id: p.id, route: p.route, replyTo: p.replyTo }, 'engine handler failed');
    p.fail(toWireError(err));
  }

  /** A put on the response queue: a reply, or a stream chunk when the request is a stream (see `readResponseItem`). */
  private putResponse(item: unknown): Promise<void> | void {
    const id = item && typeof item === 'object' ? (item as { id?: unknown }).id : undefined;
    const p = id === undefined ? undefined : this.pending.get(String(id));
    if (!p) {
      this.stats.dropped++;
      return;
    }
    const read = readResponseItem(item as object);
    if (read.kind === 'error') {
      this.failed(p, read.error);
      return;
    }
    if (read.kind === 'end') {
      if (p.isStream) p.endStream();
      else p.reply(p.collected ?? null);
      return;
    }
    if (p.isStream) return p.enqueue(read.payload, read.final);
    p.reply(read.payload);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return !!v && typeof (v as { then?: unknown }).then === 'function';
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return !!v && typeof v === 'object' && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}
