import type { FastifyBaseLogger, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { pino } from 'pino';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;
type LogArgs = Parameters<FastifyBaseLogger['info']>;

/**
 * `request.log` that becomes a pino child (with the request id bound) only when something
 * logs through it. Fastify makes a child per request; pino's `child()` copies the parent's
 * state and serialises the bindings, which measured about 6% of a web process's
 * throughput on a small JSON route, for lines most requests never write.
 */
class RequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  private get log(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.log.level = level;
  }

  fatal(...args: LogArgs): void {
    this.log.fatal(...args);
  }

  error(...args: LogArgs): void {
    this.log.error(...args);
  }

  warn(...args: LogArgs): void {
    this.log.warn(...args);
  }

  info(...args: LogArgs): void {
    this.log.info(...args);
  }

  debug(...args: LogArgs): void {
    this.log.debug(...args);
  }

  trace(...args: LogArgs): void {
    this.log.trace(...args);
  }

  silent(...args: LogArgs): void {
    this.log.silent(...args);
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.log.child(bindings, options);
  }
}

/**
 * The `req`, `res` and `err` serializers Fastify gives a pino logger it makes (`lib/logger-pino.js`, not
 * exported), for the lines Fastify writes through ours (errors, aborted streams).
 */
const SERIALIZERS = {
  req: (req: FastifyRequest) => ({ method: req.method, url: req.url, version: req.headers?.['accept-version'], host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
  res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
  err: pino.stdSerializers.err,
};

/**
 * The server's logger, made here rather than by Fastify. Given a logger of its own, Fastify
 * adds two listeners to every response and takes the time twice, for request lines that
 * appinfra turns off: measured at 8-13% of a direct-mode server's throughput on a small JSON
 * route (4 interleaved pairs). Without one, it does that only for routes with `onResponse`
 * hooks (the access log, metrics, a user's hook). The app gets this logger as `app.log` and,
 * through `requestLoggers`, as every `request.log`: the same lines as before.
 */
export function serverLogger(level: string, stream?: NodeJS.WritableStream): FastifyBaseLogger {
  const options = { level, serializers: SERIALIZERS };
  return (stream ? pino(options, stream) : pino(options)) as unknown as FastifyBaseLogger;
}

/** Fastify's `childLoggerFactory`: a request's logger, a child of `root` made when first used (Fastify's own parent is its no-op logger). */
export function requestLoggers(root: FastifyBaseLogger): NonNullable<FastifyServerOptions['childLoggerFactory']> {
  return (_fastifys, bindings, options) => new RequestLogger(root, bindings, options);
}
