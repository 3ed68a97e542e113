import { randomUUID } from 'node:crypto';
import type { Envelope, Port } from '../ipc/envelope.js';
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
} from '../errors.js';
import { ChunkStream } from './stream.js';
import type { Waiter } from './waiter.js';

export interface ChannelOptions {
  /** Requests allowed to wait for the engine at once; more are refused at admission. */
  maxPending: number;
  /** Default deadline in seconds. */
  responseTimeout: number;
  /** This web process's address for replies (seed-000 `reply_to`). */
  replyTo?: string;
  /** Chunks an engine stream may have in flight before it waits for credit. */
  streamWindow?: number;
  /** Seconds a client is told to wait after a 503 at admission. */
  retryAfter?: number;
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
  /** Streams: chunks the engine may have in flight before it waits for credit (default: the channel's `streamWindow`). */
  window?: number;
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

export type ChannelEvent =
  | { type: 'ingress'; id: string; route?: string | undefined; port: Port; replyTo: string }
  | { type: 'rejected'; route?: string | undefined; reason: string }
  | { type: 'egress'; id: string; route?: string | undefined; outcome: 'ok' | 'error' | 'timeout' | 'cancelled' | 'closed'; ms: number };

/**
 * The web process's side of the queues (seed `IPCChannel`): submits requests to the
 * engine and matches replies to waiters by id. Event driven: replies arrive as the
 * transport delivers them; nothing polls.
 */
export class IPCChannel {
  readonly replyTo: string;
  private readonly waiters = new Map<string, Waiter>();
  private link: Link | undefined;
  private running = false;
  private seq = 0;
  private readonly idPrefix: string;
  private listeners: ((e: ChannelEvent) => void)[] = [];
  readonly stats: ChannelStats = { submitted: 0, completed: 0, failed: 0, timedOut: 0, cancelled: 0, rejected: 0, dropped: 0 };

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

  /** Observes boundary events (ingress accepted/rejected, egress delivered/failed). */
  onEvent(listener: (e: ChannelEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private emit(e: ChannelEvent): void {
    for (const l of this.listeners) l(e);
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
    const admitted = this.admit(request, options);
    if (admitted instanceof Error) return Promise.reject(admitted);
    const { id, envelope, timeoutMs } = admitted;
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const signal = options.signal;
      const end = (): void => {
        this.waiters.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        id,
        onReply: (payload) => {
          end();
          this.stats.completed++;
          this.emitEgress(id, options.route, 'ok', started);
          resolve(payload);
        },
        onChunk: (payload) => waiter.onReply(payload),
        onEnd: (payload) => waiter.onReply(payload),
        fail: (err, notifyEngine) => {
          end();
          this.countFailure(err);
          if (notifyEngine) this.sendCancel(id);
          this.emitEgress(id, options.route, outcomeOf(err), started);
          reject(err);
        },
      };
      const onAbort = (): void => waiter.fail(new ClientGoneError(), true);
      this.waiters.set(id, waiter);
      const timer = setTimeout(() => waiter.fail(new ResponseTimeoutError(), true), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send(envelope, waiter);
    });
  }

  /**
   * Sends a streaming request; the result is an async iterable of the engine's chunks.
   * It ends after a chunk with `isFinal: true` or when the engine's handler finishes.
   * Breaking out of the loop cancels the engine's work.
   */
  submitStreaming(request: unknown, options: SubmitOptions = {}): AsyncIterableIterator<unknown> & { readonly id: string } {
    const window = options.window ?? this.options.streamWindow ?? 32;
    const admitted = this.admit(request, options, window);
    if (admitted instanceof Error) {
      const err = admitted;
      return Object.assign(failedIterator(err), { id: '' });
    }
    const { id, envelope, timeoutMs } = admitted;
    const started = performance.now();
    const signal = options.signal;
    const end = (): void => {
      this.waiters.delete(id);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const stream = new ChunkStream(
      window,
      (n) => this.link?.send({ kind: 'credit', id, window: n }),
      () => waiter.fail(new ClientGoneError(), true),
    );
    const finish = (payload: unknown): void => {
      if (payload !== undefined) stream.push(payload);
      end();
      this.stats.completed++;
      this.emitEgress(id, options.route, 'ok', started);
      stream.end();
    };
    const waiter: Waiter = {
      id,
      onReply: (payload) => finish(payload),
      onChunk: (payload) => {
        timer.refresh();
        if (isFinalChunk(payload)) finish(payload);
        else stream.push(payload);
      },
      onEnd: (payload) => finish(payload),
      fail: (err, notifyEngine) => {
        if (!this.waiters.has(id)) return;
        end();
        this.countFailure(err);
        if (notifyEngine) this.sendCancel(id);
        this.emitEgress(id, options.route, outcomeOf(err), started);
        stream.fail(err);
      },
    };
    const onAbort = (): void => waiter.fail(new ClientGoneError(), true);
    this.waiters.set(id, waiter);
    const timer = setTimeout(() => waiter.fail(new ResponseTimeoutError(), true), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.send(envelope, waiter);
    return Object.assign(stream, { id });
  }

  /**
   * Sends a request. A payload the codec cannot carry (a BigInt for json, ...) is refused
   * before anything is queued: only this request fails, with the EncodeError (a 500), and
   * the link and every other request go on.
   */
  private send(envelope: Envelope, waiter: Waiter): void {
    try {
      this.link!.send(envelope);
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      waiter.fail(err, false);
    }
  }

  private admit(
    request: unknown,
    options: SubmitOptions,
    window?: number,
  ): { id: string; envelope: Envelope; timeoutMs: number } | AppinfraError {
    if (!this.running || !this.link?.isOpen) {
      this.stats.rejected++;
      this.emit({ type: 'rejected', route: options.route, reason: 'channel closed' });
      return new ChannelClosedError();
    }
    if (this.waiters.size >= this.options.maxPending) {
      this.stats.rejected++;
      this.emit({ type: 'rejected', route: options.route, reason: 'max pending' });
      return new OverloadedError(`Server is at capacity (${this.options.maxPending} requests pending), retry later`, this.options.retryAfter ?? 1);
    }
    const given = request && typeof request === 'object' ? (request as { id?: unknown }).id : undefined;
    const id = typeof given === 'string' || typeof given === 'number' ? String(given) : this.nextId();
    if (this.waiters.has(id)) {
      this.stats.rejected++;
      return new StateError(`A request with id "${id}" is already pending; ids must be unique`);
    }
    if (given === undefined && request && typeof request === 'object' && !Array.isArray(request)) {
      (request as { id?: string }).id = id;
    }
    const timeoutMs = Math.max(1, Math.round((options.timeout ?? this.options.responseTimeout) * 1000));
    const port = options.port ?? (window ? 'stream' : 'request');
    const envelope: Envelope = { kind: 'request', id, replyTo: this.replyTo, port, deadline: Date.now() + timeoutMs, payload: request };
    if (options.route !== undefined) envelope.route = options.route;
    if (options.traceparent !== undefined) envelope.traceparent = options.traceparent;
    if (window) {
      envelope.stream = true;
      envelope.window = window;
    }
    this.stats.submitted++;
    this.emit({ type: 'ingress', id, route: options.route, port, replyTo: this.replyTo });
    return { id, envelope, timeoutMs };
  }

  private dispatch(e: Envelope): void {
    const waiter = this.waiters.get(e.id);
    if (!waiter) {
      // Late reply after a timeout or cancel, or an id this process never sent.
      if (e.kind !== 'credit' && e.kind !== 'control') this.stats.dropped++;
      return;
    }
    switch (e.kind) {
      case 'response':
        waiter.onReply(e.payload);
        return;
      case 'chunk':
        waiter.onChunk(e.payload);
        return;
      case 'end':
        waiter.onEnd(e.payload);
        return;
      case 'error':
        waiter.fail(fromWireError(e.payload as WireError), false);
        return;
      default:
        this.stats.dropped++;
    }
  }

  /** Ends a pending request as cancelled by its client and tells the engine. */
  cancel(id: string): void {
    this.waiters.get(id)?.fail(new ClientGoneError(), true);
  }

  private sendCancel(id: string): void {
    this.link?.send({ kind: 'cancel', id, replyTo: this.replyTo });
  }

  private countFailure(err: AppinfraError): void {
    if (err instanceof ResponseTimeoutError) this.stats.timedOut++;
    else if (err instanceof ClientGoneError) this.stats.cancelled++;
    else this.stats.failed++;
  }

  private emitEgress(id: string, route: string | undefined, outcome: 'ok' | 'error' | 'timeout' | 'cancelled' | 'closed', started: number): void {
    if (this.listeners.length === 0) return;
    this.emit({ type: 'egress', id, route, outcome, ms: performance.now() - started });
  }

  private closeAll(reason: string, notifyEngine = false): void {
    const err = new ChannelClosedError(`The engine is not reachable (${reason})`);
    const notify = notifyEngine && !!this.link?.isOpen;
    for (const waiter of [...this.waiters.values()]) waiter.fail(err, notify);
  }
}

function outcomeOf(err: AppinfraError): 'error' | 'timeout' | 'cancelled' | 'closed' {
  if (err instanceof ResponseTimeoutError) return 'timeout';
  if (err instanceof ClientGoneError) return 'cancelled';
  if (err instanceof ChannelClosedError) return 'closed';
  return 'error';
}

function isFinalChunk(payload: unknown): boolean {
  return !!payload && typeof payload === 'object' && (payload as { isFinal?: unknown }).isFinal === true;
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
