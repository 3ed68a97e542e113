/**
 * WebSocket adapter: many engine streams multiplexed over one socket.
 *
 * Frame protocol (JSON text frames; docs/protocols.md has the full table):
 *
 *   client -> server   {"type":"request","id":"a","data":{...}}   start a stream (type and id optional)
 *                      {"type":"cancel","id":"a"}                 cancel it (the engine's ctx.signal aborts)
 *   server -> client   {"type":"chunk","id":"a","data":...}       one engine chunk, in order
 *                      {"type":"end","id":"a"}                    the stream finished (cancelled: true after a cancel)
 *                      {"type":"error","id":"a","error":{statusCode,code,message}}
 *
 * A keyed route (`kv_stream`, kv-stream.ts) is the same session with another dialect:
 * `subscribe` / `unsubscribe` and a `key` in place of `id`.
 *
 * Backpressure: each stream pulls its next chunk from the channel only after the
 * previous frame was handed to the socket and the socket's unsent bytes are below
 * SOCKET_HIGH_WATER; the channel returns credit only as chunks are pulled, so a slow
 * client stops the engine's generator after `window` chunks instead of growing memory.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { IPCChannel } from '../../../channel/channel.js';
import { CODES, errorBody, wireErrorOf, type ErrorCode } from '../../../errors/index.js';
import type { Port } from '../../../contract/envelope.js';
import { PROTOCOLS } from '../../../contract/protocols.js';
import type { ForwardRoute } from '../../../contract/web-spec.js';
import { clientError, engineRequest, traceparentOf } from './ingress.js';
import { socketDrainOf, type DrainableSocket, type SocketDrain } from './socket-drain.js';
import { within } from '../../../process/within.js';
import { publish } from '../../../observability/diagnostics.js';

/** Unsent bytes a socket may hold before its streams wait for it to drain. */
export const SOCKET_HIGH_WATER = 64 * 1024;
/** Largest incoming frame; a bigger one closes the socket (1009) instead of being buffered. */
export const MAX_FRAME_BYTES = 1024 * 1024;
export const DEFAULT_MAX_STREAMS = 64;

/** How one kind of socket route names its verbs and its stream tags. */
export interface Dialect {
  port: Port;
  /** The frame field that names a stream: `id` or `key`. */
  tag: 'id' | 'key';
  open: string;
  close: string;
  /** Frames may omit `type` (meaning `open`) and the tag (assigned per socket). */
  implicit: boolean;
  /** The tag is part of the engine request (a keyed handler needs its key). */
  tagInRequest: boolean;
}

export const WEBSOCKET_DIALECT: Dialect = { port: PROTOCOLS.websocket.ports[0], tag: 'id', open: 'request', close: 'cancel', implicit: true, tagInRequest: false };

interface Entry {
  stream: AsyncIterableIterator<unknown>;
}

type Frame = Record<string, unknown>;

/**
 * Registers @fastify/websocket once, before any socket route (mercurius reuses it). Loaded
 * here, not at start-up: ws and zlib are a web process's start-up cost only when it has sockets.
 */
export async function installWebSocket(app: FastifyInstance, maxPayload = MAX_FRAME_BYTES): Promise<void> {
  if (app.hasDecorator('websocketServer')) return;
  const { default: websocketPlugin } = await import('@fastify/websocket');
  await app.register(websocketPlugin, { options: { maxPayload }, preClose: closeSockets, errorHandler: onSocketError });
}

/**
 * A message over `maxPayload` is the client's fault, not ours: ws has already closed with
 * 1009; it is a boundary event, not an error line with a stack. Anything else as the plugin does it.
 */
function onSocketError(error: Error & { code?: string }, socket: { terminate(): void }, request: FastifyRequest): void {
  if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    publish('rejected', () => ({ route: request.routeOptions.url, reason: 'payload_too_large' }));
    request.log.debug({ url: request.url }, error.message);
  } else {
    request.log.error(error);
  }
  socket.terminate();
}

function rawBytes(raw: RawData): number {
  if (Array.isArray(raw)) return raw.reduce((n, b) => n + b.length, 0);
  return raw instanceof ArrayBuffer ? raw.byteLength : raw.length;
}

/** How long clients get to answer the close handshake when the server stops. */
export const CLOSE_GRACE_MS = 1000;

/**
 * On app close: when a graceful drain runs, first let busy sockets finish their streams
 * (it releases us once they are gone or its deadline passed). Then tell every client
 * left we are going away (1001), give them CLOSE_GRACE_MS to answer, then cut the rest.
 * Upgraded sockets still count as the server's connections, so a stalled client would
 * otherwise hold the close for ws's own 30 s close timeout.
 */
async function closeSockets(this: FastifyInstance): Promise<void> {
  const drain = socketDrainOf(this);
  if (drain?.draining) await drain.settled;
  const wss = this.websocketServer;
  const clients = [...wss.clients];
  for (const c of clients) c.close(1001, 'server shutting down');
  const open = clients.filter((c) => c.readyState !== c.CLOSED);
  if (open.length > 0) {
    await within(Promise.all(open.map((c) => new Promise((resolve) => c.once('close', resolve)))), CLOSE_GRACE_MS);
    for (const c of open) c.terminate();
  }
  await new Promise((resolve) => wss.close(resolve));
}

/** Registers a socket route; a plain HTTP GET on it gets 426 Upgrade Required. */
export function registerSocketRoute(app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number, dialect: Dialect): void {
  const schema: Record<string, unknown> = {};
  if (route.tags) schema.tags = route.tags;
  if (route.summary) schema.summary = route.summary;
  schema.description = route.description ?? `WebSocket endpoint (${dialect.port} port); see docs/protocols.md for the frame protocol`;
  const timeout = route.timeout ?? defaultTimeout;
  app.route({
    method: 'GET',
    url: route.path,
    schema,
    handler: async (_req: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(CODES.UPGRADE_REQUIRED.status)
        .header('upgrade', 'websocket')
        .send(errorBody(wireErrorOf('UPGRADE_REQUIRED', `${route.path} is a WebSocket endpoint; connect with a WebSocket client`))),
    wsHandler: (socket: WebSocket, req: FastifyRequest) => {
      // Listeners are attached synchronously here, so no early frame is lost.
      new SocketSession(socket, req, channel, route, dialect, timeout, socketDrainOf(app));
    },
  });
}

/** One connected socket: its open streams, by tag. Owns nothing once the socket closes. */
export class SocketSession implements DrainableSocket {
  private readonly streams = new Map<string, Entry>();
  private seq = 0;
  private closed = false;
  private readonly maxStreams: number;
  /** Resolves on close, so a stream waiting for the socket to drain never waits forever. */
  private readonly gone: Promise<void>;
  private markGone!: () => void;

  constructor(
    private readonly socket: WebSocket,
    private readonly upgrade: FastifyRequest,
    private readonly channel: IPCChannel,
    private readonly route: ForwardRoute,
    private readonly dialect: Dialect,
    private readonly timeout: number,
    private readonly drain: SocketDrain | undefined,
  ) {
    this.maxStreams = route.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.gone = new Promise((resolve) => {
      this.markGone = resolve;
    });
    socket.on('message', this.onMessage);
    socket.once('close', this.onClose);
    drain?.add(this);
  }

  get busy(): boolean {
    return this.streams.size > 0;
  }

  goAway(): void {
    if (!this.closed && this.socket.readyState === this.socket.OPEN) this.socket.close(1001, 'server shutting down');
  }

  /** A stream ended; frames sent before this stay ahead of the close frame. */
  private forget(tag: string): void {
    this.streams.delete(tag);
    if (this.streams.size === 0) this.drain?.idle(this);
  }

  private readonly onMessage = (raw: RawData, isBinary: boolean): void => {
    const d = this.dialect;
    // The socket server's bound is the largest route's; this route's own is checked here.
    const limit = this.route.maxPayloadBytes;
    if (limit !== undefined && rawBytes(raw) > limit) {
      publish('rejected', () => ({ route: this.route.path, reason: 'payload_too_large' }));
      this.socket.close(1009, 'message too big');
      return;
    }
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(raw.toString());
    } catch {
      this.sendError(null, 'BAD_FRAME', 'Frames must be JSON text, e.g. {"type":"' + d.open + '","' + d.tag + '":"a","data":{}}');
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
      this.sendError(null, 'BAD_FRAME', 'A frame must be a JSON object');
      return;
    }
    const frame = msg as Frame;
    const type = frame.type ?? (d.implicit ? d.open : undefined);
    let tag = frame[d.tag];
    if (tag === undefined && d.implicit && type === d.open) tag = String(++this.seq);
    if (typeof tag !== 'string' && typeof tag !== 'number') {
      this.sendError(null, 'BAD_FRAME', `A "${String(type)}" frame needs a string "${d.tag}"`);
      return;
    }
    const name = String(tag);
    if (type === d.open) this.open(name, frame.data);
    else if (type === d.close) this.cancel(name);
    else this.sendError(name, 'BAD_FRAME', `Unknown frame type ${JSON.stringify(type)}; use "${d.open}" or "${d.close}"`);
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.socket.off('message', this.onMessage);
    // The client is gone: every stream's engine work is cancelled (ctx.signal aborts).
    for (const entry of this.streams.values()) void entry.stream.return?.();
    this.streams.clear();
    this.markGone();
    this.drain?.delete(this);
  };

  private open(tag: string, data: unknown): void {
    if (this.drain?.draining) {
      this.sendError(tag, 'SHUTTING_DOWN', 'The server is shutting down; open the stream again on a new connection');
      return;
    }
    if (this.streams.has(tag)) {
      this.sendError(tag, 'STREAM_EXISTS', `"${tag}" is already open on this socket; ${this.dialect.close} it first or use another ${this.dialect.tag}`);
      return;
    }
    if (this.streams.size >= this.maxStreams) {
      this.sendError(tag, 'TOO_MANY_STREAMS', `This socket already has ${this.maxStreams} open streams; ${this.dialect.close} one first`);
      return;
    }
    const request: Record<string, unknown> = { ...engineRequest(this.channel, this.upgrade, data) };
    if (this.dialect.tagInRequest) request[this.dialect.tag] = tag;
    const options: Parameters<IPCChannel['submitStreaming']>[1] = { route: this.route.handler, timeout: this.timeout, port: this.dialect.port };
    if (this.route.window !== undefined) options.window = this.route.window;
    const tp = traceparentOf(this.upgrade);
    if (tp !== undefined) options.traceparent = tp;
    const entry: Entry = { stream: this.channel.submitStreaming(request, options) };
    this.streams.set(tag, entry);
    void this.pump(tag, entry);
  }

  private cancel(tag: string): void {
    const entry = this.streams.get(tag);
    if (!entry) {
      this.sendError(tag, 'NO_SUCH_STREAM', `Nothing is open under "${tag}"`);
      return;
    }
    // Forget it first: its pump sends nothing more, so this `end` is the key's last frame.
    this.streams.delete(tag);
    void entry.stream.return?.();
    void this.send({ type: 'end', [this.dialect.tag]: tag, cancelled: true });
    if (this.streams.size === 0) this.drain?.idle(this);
  }

  /** Moves one stream's chunks to the socket, in order, one frame at a time. */
  private async pump(tag: string, entry: Entry): Promise<void> {
    // A socket that is closing takes no more frames: pulling on would only spin the
    // engine's credit round for chunks that are dropped.
    const mine = (): boolean => !this.closed && this.socket.readyState === this.socket.OPEN && this.streams.get(tag) === entry;
    const t = this.dialect.tag;
    try {
      for (;;) {
        const r = await entry.stream.next();
        if (r.done) break;
        if (!mine()) {
          void entry.stream.return?.();
          return;
        }
        await this.send({ type: 'chunk', [t]: tag, data: r.value });
      }
      if (mine()) {
        const sent = this.send({ type: 'end', [t]: tag });
        this.forget(tag);
        await sent;
      }
    } catch (err) {
      // One stream's failure ends that stream only; the socket and its other streams go on.
      // (A chunk that cannot be serialised lands here too: stop the engine's work as well.)
      void entry.stream.return?.();
      if (mine()) {
        const sent = this.send({ type: 'error', [t]: tag, error: clientError(err) });
        this.forget(tag);
        await sent;
      }
    }
  }

  /**
   * Queues a frame (so frames keep the order of the calls) and, when the socket holds
   * more than SOCKET_HIGH_WATER unsent bytes, resolves only once this frame is written.
   * Meanwhile the socket's input is paused too: a client that sends without reading
   * (each frame answered by an error frame, say) is slowed by TCP instead of growing
   * our send buffer.
   */
  private send(frame: Frame): Promise<void> | undefined {
    const s = this.socket;
    if (this.closed || s.readyState !== s.OPEN) return undefined;
    const data = JSON.stringify(frame);
    if (s.bufferedAmount < SOCKET_HIGH_WATER) {
      s.send(data);
      return undefined;
    }
    if (!s.isPaused) s.pause();
    const written = new Promise<void>((resolve) =>
      s.send(data, () => {
        // Resume unconditionally: the next send that finds the buffer full pauses again,
        // and no later callback may come to resume otherwise.
        if (s.isPaused) s.resume();
        resolve();
      }),
    );
    return Promise.race([written, this.gone]);
  }

  private sendError(tag: string | null, code: ErrorCode, message: string): void {
    void this.send({ type: 'error', [this.dialect.tag]: tag, error: errorBody(wireErrorOf(code, message), 'stream') });
  }
}
