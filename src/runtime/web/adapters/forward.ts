import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { type IPCChannel, type SubmitOptions, DEFAULT_STREAM_WINDOW, UnreadablePayload, Waiter, payloadOf } from '../../../channel/index.js';
import { type Envelope, jsonBytesOf } from '../../../contract/envelope.js';
import type { ForwardRoute } from '../../../contract/web-spec.js';
import { type AppinfraError, ClientGoneError, EngineError } from '../../../errors/index.js';
import { cancelWhenGone, forget } from './client-gone.js';
import { RAW_BODY } from './json-body.js';
import { engineRequest, traceparentOf } from './ingress.js';
import { errorEvent, openSse, writeCorked } from './sse.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Registers one forward route: the ingress adapter of seed 000 for HTTP JSON and SSE.
 * The request chain is short and the same for both: admit and send (`channel.open`), then
 * the engine's replies go straight into the HTTP response through a waiter, with no
 * promise, closure or timer of its own per request.
 */
export function registerForward(app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number): void {
  const schema: Record<string, unknown> = { ...(route.schema ?? {}) };
  if (route.tags) schema.tags = route.tags;
  if (route.summary) schema.summary = route.summary;
  if (route.description) schema.description = route.description;
  const timeout = route.timeout ?? defaultTimeout;
  const status = route.status ?? 200;
  // A response schema filters and checks what goes out: those replies are parsed and serialised
  // by Fastify; without one, the engine's JSON text is the body as it came.
  const passThrough = route.schema?.response === undefined;
  const sse = route.reply === 'sse';
  const window = route.window ?? DEFAULT_STREAM_WINDOW;
  // One options object per route, its traceparent set per request: `open` reads it and keeps nothing of it.
  const options: SubmitOptions = { route: route.handler, timeout, traceparent: undefined, wantJson: true };
  const handler = (req: FastifyRequest, reply: FastifyReply): void => {
    const waiter = sse ? new SseReplyWaiter(channel, req, reply, status, window) : new JsonReplyWaiter(req, reply, status, passThrough);
    options.traceparent = traceparentOf(req);
    const refused = channel.open(waiter, engineRequest(channel, req, req.body), options);
    if (refused) {
      reply.send(refused);
      return;
    }
    cancelWhenGone(channel, req, waiter);
  };
  const config: Record<string, unknown> = {};
  if (route.strict) config.strict = true;
  // Without a body schema nothing here needs the value: the body may go on as its text.
  if (route.schema?.body === undefined) config[RAW_BODY] = true;
  app.route({ method: route.methods, url: route.path, schema, handler, config });
}

/** A JSON route's request: its reply is the HTTP body. */
class JsonReplyWaiter extends Waiter {
  constructor(
    private readonly req: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly status: number,
    private readonly passThrough: boolean,
  ) {
    super();
  }

  receive(e: Envelope): void {
    forget(this.req, this);
    const bytes = this.passThrough ? jsonBytesOf(e) : undefined;
    if (bytes) {
      this.reply.code(this.status).type(JSON_TYPE).send(bytes);
      return;
    }
    const value = payloadOf(e);
    if (value instanceof UnreadablePayload) {
      this.reply.send(value.error);
      return;
    }
    this.reply.code(this.status);
    // A string answer is JSON too, as it is over the pipe: quoted, never sent as text/plain.
    if (typeof value === 'string') this.reply.type(JSON_TYPE).send(JSON.stringify(value));
    else this.reply.send(value === undefined ? null : value);
  }

  failed(err: AppinfraError): void {
    forget(this.req, this);
    this.reply.send(err);
  }
}

/**
 * An SSE route's request: the chunks that arrive in one tick go out as one write of their
 * events, and credit is returned to the engine as the client's socket takes them (held
 * back while the socket asks to wait for `drain`), so a slow client slows the engine. The
 * first reply commits the status, so admission (503) and early engine errors keep their
 * own. One write per tick rather than per event: Node's chunked encoding and stream
 * bookkeeping cost more per `write` than the bytes do.
 */
class SseReplyWaiter extends Waiter {
  private res: ServerResponse | undefined;
  /** This tick's events, written together when the tick ends (`flushEvents`). */
  private events: (Buffer | string)[] | undefined;
  private eventCount = 0;
  private consumed = 0;
  private blocked = false;

  constructor(
    private readonly channel: IPCChannel,
    private readonly req: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly status: number,
    private readonly windowSize: number,
  ) {
    super();
  }

  override get window(): number {
    return this.windowSize;
  }

  receive(e: Envelope): void {
    this.res ??= openSse(this.reply, this.status);
    if (e.kind === 'chunk') {
      this.queue(e);
      return;
    }
    // `end` (or a handler's return value): its payload, if any, is the last event.
    forget(this.req, this);
    if (e.body !== undefined || e.payload !== undefined) this.queue(e);
    this.flush();
    this.res.end();
  }

  failed(err: AppinfraError): void {
    forget(this.req, this);
    const res = this.res;
    if (!res) {
      this.reply.send(err);
      return;
    }
    this.flush();
    if (!(err instanceof ClientGoneError) && !res.destroyed) writeCorked(res, errorEvent(err));
    res.end();
  }

  /** Adds one chunk's event to this tick's write; a chunk JSON cannot carry fails the stream instead. */
  private queue(e: Envelope): void {
    const bytes = jsonBytesOf(e);
    let pieces: (Buffer | string)[];
    if (bytes) {
      pieces = [DATA, bytes, EVENT_END];
    } else {
      let text: string | undefined;
      try {
        // Bytes that do not decode throw here too: the same generic error.
        text = JSON.stringify(e.payload) as string | undefined;
      } catch {
        // Direct mode hands values over as they are: one that JSON cannot carry (a BigInt)
        // ends this stream with the same generic error the engine sends in subprocess mode.
        this.channel.fail(this, new EngineError(500, 'Internal Server Error', 'INTERNAL_ERROR'));
        return;
      }
      pieces = [`data: ${text ?? 'null'}\n\n`];
    }
    if (this.events === undefined) {
      this.events = pieces;
      process.nextTick(flushEvents, this);
    } else {
      for (const b of pieces) this.events.push(b);
    }
    this.eventCount++;
  }

  /** Writes the queued events at once, then returns their credit unless the socket asks to wait. */
  flush(): void {
    const q = this.events;
    if (q === undefined) return;
    const n = this.eventCount;
    this.events = undefined;
    this.eventCount = 0;
    const res = this.res!;
    if (res.destroyed) return;
    if (!res.write(joined(q)) && !this.blocked) {
      this.blocked = true;
      res.once('drain', this.onDrain);
    }
    // Credit in halves of the window: fewer credit messages, no stall.
    this.consumed += n;
    if (!this.ended && !this.blocked && this.consumed >= Math.max(1, this.windowSize >> 1)) this.grant();
  }

  private grant(): void {
    const n = this.consumed;
    this.consumed = 0;
    if (n > 0) this.channel.credit(this, n);
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    if (!this.ended) this.grant();
  };
}

const DATA = Buffer.from('data: ');
const EVENT_END = Buffer.from('\n\n');

/** One write's worth: JSON off the wire comes as bytes (subprocess mode), values as text (direct mode). */
function joined(q: (Buffer | string)[]): Buffer | string {
  if (q.length === 1) return q[0]!;
  if (q.every((x) => typeof x === 'string')) return q.join('');
  return Buffer.concat(q.map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));
}

function flushEvents(w: SseReplyWaiter): void {
  w.flush();
}
