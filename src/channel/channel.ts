import { randomUUID } from 'node:crypto';
import type { Envelope, Port } from '../contract/envelope.js';
import type { Link } from '../ipc/transports/link.js';
import {
  type AppinfraError,
  ChannelClosedError,
  ClientGoneError,
  EncodeError,
  OverloadedError,
  ResponseTimeoutError,
  StateError,
  fromWireError,
  type WireError,
} from '../errors/index.js';
import { channels, requestTracing, type RequestTraceContext } from '../observability/diagnostics.js';
import { Deadlines } from './deadlines.js';
import { SeqTable } from './seq-table.js';
import { WallClock } from './wall-clock.js';
import { CallWaiter, StreamWaiter } from './waiters.js';
import type { Waiter } from './waiter.js';

export interface ChannelOptions {
  /**
   * Requests allowed to wait for the engine at once, per web process (with several
   * workers the server-wide cap is workers x maxPending); more are refused at admission.
   */
  maxPending: number;
  /** Default deadline in seconds. */
  responseTimeout: number;
  /** This web process's address for replies (seed-000 `reply_to`). */
  replyTo?: string;
  /** What requests go to, as the `appinfra:handoff` event names it: `engine` (default), or a process group. */
  target?: string;
}

export interface SubmitOptions {
  /** Seconds; overrides the default deadline. For streams: the longest gap between chunks. */
  timeout?: number;
  /** Aborts the request (client gone): the waiter ends and the engine is told to cancel. */
  signal?: AbortSignal;
  /** Engine handler name. */
  route?: string;
  port?: Port;
  traceparent?: string;
  /** Streams: chunks the engine may have in flight before it waits for credit (default 32). */
  window?: number;
  /** The answer will be written out as JSON (an HTTP body, SSE events): the engine sends it as JSON text. */
  wantJson?: boolean;
}

export interface ChannelStats {
  submitted: number;
  completed: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  rejected: number;
  /** Replies for an id that is unknown or already ended: dropped, never a crash. */
  dropped: number;
}

/** Chunks a stream may have in flight before the engine waits for credit, unless a route says otherwise. */
export const DEFAULT_STREAM_WINDOW = 32;

type Outcome = 'ok' | 'error' | 'timeout' | 'cancelled' | 'closed';

/**
 * The web process's side of the queues (seed `IPCChannel`): submits requests to the
 * engine and matches replies to waiters by id. Event driven: replies arrive as the
 * transport delivers them; nothing polls. Every request, whatever protocol it came by,
 * takes the same path: `open` (admission, one envelope out, a row in the table and in the
 * deadline list), replies through `receive`, and one end (`settle` or `end`).
 */
export class IPCChannel {
  readonly replyTo: string;
  private readonly waiters = new SeqTable<Waiter>();
  private readonly deadlines = new Deadlines<Waiter>((w) => this.end(w, new ResponseTimeoutError(), true));
  private readonly wallClock = new WallClock();
  /** Who waits for no request to be pending (`whenIdle`). */
  private readonly idle = new Set<() => void>();
  private link: Link | undefined;
  private running = false;
  private seq = 0;
  private readonly idPrefix: string;
  readonly stats: ChannelStats = { submitted: 0, completed: 0, failed: 0, timedOut: 0, cancelled: 0, rejected: 0, dropped: 0 };

  /** Queue and batch figures of the engine's limited and batching handlers, as it last sent them (for `/_health`). */
  engineHandlers: Record<string, unknown> | undefined;

  constructor(private readonly options: ChannelOptions, link?: Link) {
    this.replyTo = options.replyTo ?? `web-${process.pid}`;
    this.idPrefix = `${this.replyTo}.${randomUUID().slice(0, 8)}.`;
    if (link) this.attach(link);
  }

  /** Connects the channel to a transport link and starts taking replies from it. */
  attach(link: Link): void {
    this.link = link;
    link.onMessage((e) => this.dispatch(e));
    link.onClose(() => this.closeAll('link closed'));
  }

  /** True when a request may carry its client's JSON body unparsed (see `RawForward`). */
  get carriesBytes(): boolean {
    return this.link?.carriesBytes === true;
  }

  get pendingCount(): number {
    return this.waiters.size;
  }

  get maxPending(): number {
    return this.options.maxPending;
  }

  get isConnected(): boolean {
    return this.running && !!this.link?.isOpen;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Seed `start_polling`: begins accepting submissions. There is no polling loop. */
  async startPolling(): Promise<void> {
    if (!this.link) throw new StateError('IPCChannel has no link: attach a transport before starting it');
    this.running = true;
  }

  /**
   * Resolves once no request is pending, or after `ms`: a stop gives what is still out once
   * its HTTP side has drained (a response callback's report to the engine, a route module's
   * background call) the rest of its timeout before `stop` fails it.
   */
  whenIdle(ms: number): Promise<void> {
    if (this.waiters.size === 0 || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idle.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.idle.add(done);
    });
  }

  /** Seed `stop_polling`: refuses new submissions and fails every waiter with 503. */
  async stopPolling(): Promise<void> {
    this.running = false;
    // The link may still be up (direct mode): the engine must stop work nobody waits for.
    this.closeAll('channel stopped', true);
  }

  start(): Promise<void> {
    return this.startPolling();
  }

  stop(): Promise<void> {
    return this.stopPolling();
  }

  /** A fresh id unique to this web process. */
  nextId(): string {
    return this.idPrefix + (++this.seq).toString(36);
  }

  /**
   * Sends `request` to the engine and resolves with its reply. The request's `id` (if it
   * has one) is the correlation id; otherwise one is assigned.
   */
  submit(request: unknown, options: SubmitOptions = {}): Promise<unknown> {
    const waiter = new CallWaiter(this, options.signal);
    const refused = this.open(waiter, request, options);
    return refused ? Promise.reject(refused) : waiter.promise;
  }

  /**
   * Sends a streaming request; the result is an async iterable of the engine's chunks.
   * It ends after a chunk with `isFinal: true` or when the engine's handler finishes.
   * Breaking out of the loop cancels the engine's work.
   */
  submitStreaming(request: unknown, options: SubmitOptions = {}): AsyncIterableIterator<unknown> & { readonly id: string } {
    const waiter = new StreamWaiter(this, options.window ?? DEFAULT_STREAM_WINDOW, options.signal);
    const refused = this.open(waiter, request, options);
    if (refused) return Object.assign(failedIterator(refused), { id: '' });
    return Object.assign(waiter.stream, { id: waiter.id });
  }

  /**
   * The one admission path: refuses (returns the error; nothing was sent or kept) when the
   * channel is closed, `maxPending` is reached, the id is taken or the request cannot be
   * encoded; otherwise sends the request and keeps `waiter` until its end.
   */
  open(waiter: Waiter, request: unknown, options: SubmitOptions): AppinfraError | undefined {
    if (!this.running || !this.link?.isOpen) return this.refuse(options, 'closed', new ChannelClosedError());
    if (this.waiters.size >= this.options.maxPending) {
      return this.refuse(options, 'overloaded', new OverloadedError(`Server is at capacity (${this.options.maxPending} requests pending), retry later`));
    }
    const given = request && typeof request === 'object' ? (request as { id?: unknown }).id : undefined;
    const id = typeof given === 'string' || typeof given === 'number' ? String(given) : this.nextId();
    // In the table before it is sent (its id read once for both the check and the add); out again if it cannot be.
    waiter.id = id;
    if (!this.waiters.tryAdd(waiter)) {
      waiter.id = '';
      return this.refuse(options, 'invalid', new StateError(`A request with id "${id}" is already pending; ids must be unique`));
    }
    if (given === undefined && request && typeof request === 'object' && !Array.isArray(request)) {
      (request as { id?: string }).id = id;
    }
    const timeoutMs = Math.max(1, Math.round((options.timeout ?? this.options.responseTimeout) * 1000));
    const window = waiter.window;
    const port = options.port ?? (window ? 'stream' : 'request');
    // The one clock read of a request: its deadline here (monotonic) and in the envelope (epoch ms, for the engine).
    const started = performance.now();
    const envelope: Envelope = { kind: 'request', id, replyTo: this.replyTo, port, deadline: this.wallClock.at(started) + timeoutMs, payload: request };
    if (options.route !== undefined) envelope.route = options.route;
    if (options.traceparent !== undefined) envelope.traceparent = options.traceparent;
    if (options.wantJson) envelope.wantJson = true;
    if (window) {
      envelope.stream = true;
      envelope.window = window;
    }
    const trace: RequestTraceContext | undefined = requestTracing.hasSubscribers ? (waiter.trace = { id, route: options.route, replyTo: this.replyTo, traceparent: options.traceparent, port }) : undefined;
    if (trace) requestTracing.start.publish(trace);
    try {
      this.link.send(envelope);
    } catch (err) {
      this.waiters.delete(waiter);
      waiter.id = '';
      if (trace) {
        trace.error = err;
        trace.outcome = 'error';
        requestTracing.error.publish(trace);
        requestTracing.end.publish(trace);
        waiter.trace = undefined;
      }
      // The request holds a value the codec cannot carry: only this request fails, the link is intact.
      if (err instanceof EncodeError) return this.refuse(options, 'invalid', err);
      throw err;
    }
    waiter.route = options.route;
    waiter.traceparent = options.traceparent;
    waiter.started = started;
    this.deadlines.add(waiter, timeoutMs, started);
    this.stats.submitted++;
    if (channels.ingress.hasSubscribers) channels.ingress.publish({ id, route: options.route, port, replyTo: this.replyTo, traceparent: options.traceparent });
    if (channels.handoff.hasSubscribers) {
      channels.handoff.publish({ id, route: options.route, replyTo: this.replyTo, traceparent: options.traceparent, transport: this.link.transport ?? 'custom', target: this.options.target ?? 'engine' });
    }
    if (trace) requestTracing.end.publish(trace);
    return undefined;
  }

  /** Ends a pending request as cancelled by its client and tells the engine. */
  cancel(target: string | Waiter): void {
    const w = typeof target === 'string' ? this.waiters.get(target) : target;
    if (w) this.end(w, new ClientGoneError(), true);
  }

  /** Ends a pending request with `err` (an adapter could not deliver its reply) and tells the engine to stop. */
  fail(w: Waiter, err: AppinfraError): void {
    this.end(w, err, true);
  }

  /** Returns `n` chunks of credit to the engine for a stream its consumer has taken. */
  credit(w: Waiter, n: number): void {
    if (!w.ended) this.link?.send({ kind: 'credit', id: w.id, window: n });
  }

  private refuse(options: SubmitOptions, reason: string, err: AppinfraError): AppinfraError {
    this.stats.rejected++;
    if (channels.rejected.hasSubscribers) channels.rejected.publish({ route: options.route, replyTo: this.replyTo, traceparent: options.traceparent, reason });
    return err;
  }

  private dispatch(e: Envelope): void {
    if (e.kind === 'control') {
      const body = e.payload as { type?: unknown; handlers?: unknown } | undefined;
      if (body?.type === 'handlers' && body.handlers && typeof body.handlers === 'object') this.engineHandlers = body.handlers as Record<string, unknown>;
      return;
    }
    const w = this.waiters.get(e.id);
    if (!w) {
      // Late reply after a timeout or cancel, or an id this process never sent.
      if (e.kind !== 'credit') this.stats.dropped++;
      return;
    }
    switch (e.kind) {
      case 'chunk':
        if (w.window) {
          this.deadlines.touch(w);
          w.receive(e);
          return;
        }
        // A unary request answered by a chunk: the chunk is the answer.
        this.settle(w);
        this.traced(w, e);
        return;
      case 'response':
      case 'end':
        this.settle(w);
        this.traced(w, e);
        return;
      case 'error':
        this.end(w, fromWireError(e.payload as WireError), false);
        return;
      default:
        this.stats.dropped++;
    }
  }

  /** The request got its last reply: out of the table before the waiter sees it. */
  private settle(w: Waiter): void {
    this.remove(w);
    this.stats.completed++;
    this.egress(w, 'ok', 200);
  }

  /** The one failure path: timeout, client gone, engine error, channel closed. */
  private end(w: Waiter, err: AppinfraError, notifyEngine: boolean): void {
    if (w.ended) return;
    this.remove(w);
    if (err instanceof ResponseTimeoutError) this.stats.timedOut++;
    else if (err instanceof ClientGoneError) this.stats.cancelled++;
    else this.stats.failed++;
    if (notifyEngine) this.link?.send({ kind: 'cancel', id: w.id, replyTo: this.replyTo });
    const outcome = outcomeOf(err);
    this.egress(w, outcome, err.status);
    const trace = w.trace;
    if (trace !== undefined) {
      w.trace = undefined;
      trace.outcome = outcome;
      trace.error = err;
      requestTracing.error.publish(trace);
    }
    w.failed(err);
  }

  /** Hands the last reply to its waiter between the tracing channel's asyncStart and asyncEnd. */
  private traced(w: Waiter, e: Envelope): void {
    const trace = w.trace;
    if (trace === undefined) {
      w.receive(e);
      return;
    }
    w.trace = undefined;
    trace.outcome = 'ok';
    requestTracing.asyncStart.publish(trace);
    try {
      w.receive(e);
    } finally {
      requestTracing.asyncEnd.publish(trace);
    }
  }

  private remove(w: Waiter): void {
    w.ended = true;
    this.waiters.delete(w);
    this.deadlines.delete(w);
    if (this.idle.size !== 0 && this.waiters.size === 0) for (const done of this.idle) done();
  }

  private egress(w: Waiter, outcome: Outcome, status: number): void {
    if (channels.egress.hasSubscribers) {
      channels.egress.publish({ id: w.id, route: w.route, replyTo: this.replyTo, traceparent: w.traceparent, outcome, status, ms: performance.now() - w.started });
    }
  }

  private closeAll(reason: string, notifyEngine = false): void {
    const err = new ChannelClosedError(`The engine is not reachable (${reason})`);
    const notify = notifyEngine && !!this.link?.isOpen;
    for (const w of this.waiters.values()) this.end(w, err, notify);
    this.deadlines.clear();
  }
}

function outcomeOf(err: AppinfraError): Outcome {
  if (err instanceof ResponseTimeoutError) return 'timeout';
  if (err instanceof ClientGoneError) return 'cancelled';
  if (err instanceof ChannelClosedError) return 'closed';
  return 'error';
}

function failedIterator(err: unknown): AsyncIterableIterator<unknown> {
  let thrown = false;
  const it: AsyncIterableIterator<unknown> = {
    next: () => {
      if (thrown) return Promise.resolve({ value: undefined, done: true });
      thrown = true;
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
