import { BuildError, ConfigError } from '../../errors/index.js';
import { ApiConfig, type ApiConfigInit } from '../config/api.js';
import { IPCConfig } from '../config/ipc.js';
import { unifyResponseTimeout } from '../config/deadline.js';
import { Server, type ServerParts } from '../../runtime/main/server.js';
import { RouteConfigurer } from './route.js';
import { SubprocessConfigurer } from './subprocess.js';
import { UvicornConfigurer } from './uvicorn.js';

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
  /** Replaces the whole API configuration; later setters change single fields of it. */
  withConfig(config: ApiConfig | ApiConfigInit): this {
    this._state.api = new ApiConfig(config instanceof ApiConfig ? config.toJSON() : config);
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
      ...(s.backbone ? { backbone: { ...s.backbone } } : {}),
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
}
