import { BuildError, ConfigError } from '../../errors/index.js';
import { ApiConfig, type ApiConfigInit } from '../config/api.js';
import { IPCConfig } from '../config/ipc.js';
import { unifyResponseTimeout } from '../config/deadline.js';
import { Server, type ServerParts } from '../../runtime/main/server.js';
import { RouteConfigurer } from './route.js';
import { SubprocessConfigurer } from './subprocess.js';
import { UvicornConfigurer } from './uvicorn.js';
import type { AuthData, RateLimitData } from '../config/ingress.js';
import type { CallbackStage } from '../../contract/web-spec.js';
import type { RateLimitStore } from '../../ingress/buckets.js';

/** A lifecycle callback: a function (direct mode), or a module URL whose export the web process imports (both modes). */
export type CallbackInput = ((...args: any[]) => unknown) | URL | string;

const CALLBACK_METHODS: Record<CallbackStage, string> = {
  startup: 'withOnStartup',
  shutdown: 'withOnShutdown',
  lifespan: 'withLifespan',
  request: 'withOnRequest',
  response: 'withOnResponse',
  exception: 'withOnException',
};
import { importEngineModule } from '../cli/app-engine.js';
import { groupSpec, tcpLocalSpec, type ExecutionIpcOptions, type GroupOptions } from '../config/groups.js';

/** @internal What the builders collect: the server's parts but its name; the runtime reads it once at `build()`. */
export type BuilderState = Omit<ServerParts, 'name'>;

/**
 * Fluent builder for an HTTP API server (seed `ServerBuilder`): `with*()` setters,
 * focused configurers (`.routes`, `.subprocess`, `.uvicorn`) that return here with
 * `.done()`, and `build()` which validates everything and returns a `Server`.
 */
export class ServerBuilder {
  /** @internal */
  readonly _state: BuilderState = {
    api: new ApiConfig(),
    ipc: new IPCConfig(),
    queues: undefined,
    forwards: [],
    modules: [],
    inlineRoutes: [],
    routers: [],
    exceptionHandlers: [],
    middleware: [],
    cors: undefined,
    callbacks: [],
    callbackRefs: [],
    groups: [],
    tcp: undefined,
  };
  private readonly routeConfigurer = new RouteConfigurer(this);
  private readonly subprocessConfigurer = new SubprocessConfigurer(this);
  private readonly uvicornConfigurer = new UvicornConfigurer(this);

  constructor(readonly name: string) {
    if (typeof name !== 'string' || name.trim() === '') throw new BuildError('ServerBuilder(name): name must be a non-empty string');
  }

  withHost(host: string): this {
    this._state.api.host = host;
    return this;
  }
  withPort(port: number): this {
    this._state.api.port = port;
    return this;
  }
  withTitle(title: string): this {
    this._state.api.title = title;
    return this;
  }
  withDescription(description: string): this {
    this._state.api.description = description;
    return this;
  }
  withVersion(version: string): this {
    this._state.api.version = version;
    return this;
  }
  /** Seconds the engine has to answer an HTTP request (also the default of `ipc.submit`). */
  withTimeout(seconds: number): this {
    this._state.api.responseTimeout = seconds;
    (this._state.ipc as { responseTimeout: number }).responseTimeout = seconds;
    return this;
  }
  /** Serves Prometheus metrics of every process (web workers and engine) at `path` (default `/metrics`). */
  withMetrics(options: { path?: string } = {}): this {
    this._state.api.metrics = { enabled: true, path: options.path ?? '/metrics' };
    return this;
  }
  /** Serves the live status page at `path` (default `/_status`); with `token`, only to who gives it (?token= or Bearer). */
  withStatusPage(options: { path?: string; token?: string } = {}): this {
    this._state.api.statusPage = { enabled: true, path: options.path ?? '/_status', token: options.token ?? null };
    return this;
  }
  /**
   * A module each web process imports before anything else, to register an OpenTelemetry
   * SDK there (the main process registers its own, as any program does). Absolute URL or path.
   */
  withTracing(setup: string | URL): this {
    this._state.api.tracing = { setup: setup instanceof URL ? setup.href : setup };
    return this;
  }
  /** Replaces the whole API configuration; later setters change single fields of it. */
  withConfig(config: ApiConfig | ApiConfigInit): this {
    this._state.api = new ApiConfig(config instanceof ApiConfig ? config.toJSON() : config);
    return this;
  }

  /**
   * Rate limit of every route but the exempt ones (`/_health`, `/metrics`, `/_status` by
   * default) and those with their own: `rate` as `"60/min"`, `"1000/hour"`, `"10/s"`; a
   * token bucket holding `rate` plus `burst`; `key` is `ip` (default), `global` or
   * `header:<name>`. Over it: 429 with Retry-After. With several web processes the limit
   * is the server's: the buckets are kept in this process.
   */
  withRateLimit(rate: string, options: Partial<Omit<RateLimitData, 'rate'>> = {}): this {
    this._state.api.rateLimit = { rate, ...options } as RateLimitData;
    return this;
  }
  /**
   * API keys (`Authorization: Bearer <key>`, or the key in `header`), read by the web side
   * from `file` or the environment variable `env`: never from argv, never logged. Missing:
   * 401 with WWW-Authenticate; unknown or lacking a route's scopes: 403. `check`: a module
   * URL whose default export `(request, principal) => boolean` runs after the key matched.
   */
  withAuth(auth: { file?: string; env?: string; header?: string; exempt?: string[]; check?: string | URL }): this {
    const { check, ...rest } = auth;
    this._state.api.auth = { ...rest, ...(check === undefined ? {} : { check: check instanceof URL ? check.href : check }) } as AuthData;
    return this;
  }
  /**
   * Where the rate-limit buckets live: any `RateLimitStore` (`take(bucket, key, rule)`), for
   * example one on Redis shared by servers on several machines. Default: in memory in this
   * process, shared by its web processes.
   */
  withRateLimitStore(store: RateLimitStore): this {
    if (!store || typeof store.take !== 'function') throw new BuildError('withRateLimitStore(store): store must have a take(bucket, key, rule) method');
    this._state.rateStore = store;
    return this;
  }
  /** Largest request body (and WebSocket message) in bytes: 413 (WebSocket: close 1009) above it. Default 1 MiB. */
  withMaxPayloadBytes(bytes: number): this {
    this._state.api.maxPayloadBytes = bytes;
    return this;
  }

  /** Runs once the app is ready, before it listens; `({ app, ipc })`, the IPC channel already up. A failure stops the start (CallbackError). */
  withOnStartup(callback: CallbackInput, exportName?: string): this {
    return this.addCallback('startup', callback, exportName);
  }
  /** Runs when the server stops, after in-flight requests finished; each bounded (5 s). */
  withOnShutdown(callback: CallbackInput, exportName?: string): this {
    return this.addCallback('shutdown', callback, exportName);
  }
  /** Setup and teardown in one: an async generator function (`setup; yield; teardown`) or a function returning its cleanup. */
  withLifespan(callback: CallbackInput, exportName?: string): this {
    return this.addCallback('lifespan', callback, exportName);
  }
  /** `(request, reply)` at the start of every request. */
  withOnRequest(callback: CallbackInput, exportName?: string): this {
    return this.addCallback('request', callback, exportName);
  }
  /** `(request, reply)` once every response is sent. */
  withOnResponse(callback: CallbackInput, exportName?: string): this {
    return this.addCallback('response', callback, exportName);
  }
  /** `(error, request, reply)` for every error: send the reply, or return a body (after `reply.code()`), or undefined for the default answer. */
  withOnException(callback: CallbackInput, exportName?: string): this {
    return this.addCallback('exception', callback, exportName);
  }

  /** A function (direct mode) or a module URL and the name of its export (default `default`): what a web process can import. */
  private addCallback(stage: CallbackStage, callback: CallbackInput, exportName = 'default'): this {
    if (typeof callback === 'function') {
      this._state.callbacks!.push({ stage, fn: callback });
    } else if (callback instanceof URL || (typeof callback === 'string' && callback.length > 0)) {
      this._state.callbackRefs!.push({ stage, module: callback instanceof URL ? callback.href : callback, name: exportName });
    } else {
      throw new BuildError(`${CALLBACK_METHODS[stage]}(callback): callback must be a function or a module URL (with the export's name)`);
    }
    return this;
  }

  /**
   * A process group: `processes` processes each import `module` and serve `handlers` with
   * the ordinary engine, on every core. A handler given as `{ name, retry: n }` is
   * idempotent: when its process dies, it is tried again on another one of the group.
   */
  withProcessGroup(name: string, options: GroupOptions): this {
    const spec = groupSpec(name, options);
    const groups = this._state.groups!;
    if (groups.some((g) => g.name === name)) throw new BuildError(`withProcessGroup("${name}"): a group of that name is already declared`);
    for (const h of spec.handlers) {
      const other = groups.find((g) => g.handlers.includes(h));
      if (other) throw new BuildError(`withProcessGroup("${name}"): handler "${h}" is already served by group "${other.name}"`);
    }
    groups.push(spec);
    return this;
  }

  /** The signed tcp_local transport the process groups use (seed 000 `execution_ipc`): bind address, TTL, replay cache, size limit, secret file. */
  withExecutionIpc(options: ExecutionIpcOptions): this {
    this._state.tcp = tcpLocalSpec(options);
    return this;
  }

  get routes(): RouteConfigurer {
    return this.routeConfigurer;
  }
  get subprocess(): SubprocessConfigurer {
    return this.subprocessConfigurer;
  }
  get uvicorn(): UvicornConfigurer {
    return this.uvicornConfigurer;
  }
  /** Alias of `.uvicorn`: there is no uvicorn in Node, these are the HTTP server's settings. */
  get http(): UvicornConfigurer {
    return this.uvicornConfigurer;
  }

  /** Validates everything collected and creates the runtime `Server`. Nothing starts yet. */
  build(): Server {
    const s = this._state;
    // Re-parse: setters assign raw values, so every value is checked here, with its key path.
    const api = new ApiConfig(s.api.toJSON());
    const ipc = new IPCConfig(s.ipc.toJSON());
    const clash = unifyResponseTimeout(api, ipc);
    if (clash) throw new ConfigError(clash);
    const subprocessMode = s.queues !== undefined;
    if (subprocessMode) refuseClosures(s);
    if (s.backbone && !subprocessMode) throw new BuildError('subprocess.withRedis(...): the Redis backbone carries subprocess mode; call .subprocess.withIpc(requestQ, responseQ) too');
    if ((api.uvicorn.sslKeyfile === null) !== (api.uvicorn.sslCertfile === null)) {
      throw new BuildError('uvicorn: sslKeyfile and sslCertfile go together; set both with .uvicorn.withSsl(key, cert)');
    }
    if (!subprocessMode && api.uvicorn.workers > 1) {
      throw new BuildError('uvicorn.workers > 1 needs subprocess mode: call .subprocess.withIpc(requestQ, responseQ) so each worker has a link to the engine');
    }
    const seen = new Set<string>();
    for (const r of [...s.forwards, ...s.inlineRoutes]) {
      for (const m of r.methods) {
        const key = `${m} ${r.path}`;
        if (seen.has(key)) throw new BuildError(`Route ${key} is declared twice; remove one`);
        seen.add(key);
      }
    }
    return new Server({
      name: this.name,
      api,
      ipc,
      queues: s.queues,
      forwards: [...s.forwards],
      modules: [...s.modules],
      inlineRoutes: [...s.inlineRoutes],
      routers: [...s.routers],
      exceptionHandlers: [...s.exceptionHandlers],
      middleware: [...s.middleware],
      cors: s.cors,
      callbacks: [...(s.callbacks ?? [])],
      callbackRefs: [...(s.callbackRefs ?? [])],
      ...(s.rateStore ? { rateStore: s.rateStore } : {}),
      groups: [...(s.groups ?? [])],
      tcp: s.tcp ?? tcpLocalSpec(),
      ...(s.backbone ? { backbone: { ...s.backbone }, importHandlers: importEngineModule } : {}),
    });
  }
}

function refuseClosures(s: BuilderState): void {
  const how =
    'In subprocess mode the HTTP server runs in a child process and a function cannot cross a process boundary. ' +
    'Either forward the route to the engine with .routes.withForward(path, { handler: "name" }) and register ' +
    'server.engine.handle("name", fn) in this process, or move the code into a route module and add it with ' +
    '.routes.fromModule(new URL("./routes.js", import.meta.url)).';
  const first = s.inlineRoutes[0];
  if (first) throw new BuildError(`withRoute("${first.path}") has an inline handler. ${how}`);
  if (s.routers.length > 0) throw new BuildError(`withRouter(plugin) was given a function. ${how}`);
  if (s.exceptionHandlers.length > 0) throw new BuildError(`withExceptionHandler(...) was given a function. ${how} A route module can call app.setErrorHandler itself.`);
  if (s.middleware.length > 0) throw new BuildError(`withMiddleware(...) was given a function. ${how} A route module can add hooks and plugins itself.`);
  const cb = s.callbacks?.[0];
  if (cb) {
    throw new BuildError(
      `${CALLBACK_METHODS[cb.stage]}(fn) was given a function. In subprocess mode the HTTP server runs in a child process and a function cannot cross a process boundary: ` +
        `export it from a module and pass the module instead, e.g. ${CALLBACK_METHODS[cb.stage]}(new URL("./lifecycle.js", import.meta.url), "${cb.fn.name || 'myCallback'}").`,
    );
  }
}
