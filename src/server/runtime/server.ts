import type { ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { IPCChannel } from '../../channel/channel.js';
import { Engine } from '../../engine/engine.js';
import type { Queue } from '../../engine/queue.js';
import { StateError } from '../../errors.js';
import { memoryLinkPair } from '../../ipc/transports/memory.js';
import type { ApiConfig } from '../config/api.js';
import type { IPCConfig } from '../config/ipc.js';
import type { CorsSpec, ExceptionHandlerSpec, ForwardRoute, InlineRoute, InlineRouter, MiddlewareSpec, RouteModule } from '../routes.js';
import { buildApp, type WebSpec } from './adapter/app.js';
import { closeGracefully } from './close.js';
import { webHealth } from './health.js';
import { WebSupervisor } from './supervisor.js';

/** @internal What `ServerBuilder.build()` hands over. */
export interface ServerParts {
  name: string;
  api: ApiConfig;
  ipc: IPCConfig;
  queues: { requestQ: Queue<any>; responseQ: Queue<any> } | undefined;
  forwards: ForwardRoute[];
  modules: RouteModule[];
  inlineRoutes: InlineRoute[];
  routers: InlineRouter[];
  exceptionHandlers: ExceptionHandlerSpec[];
  middleware: MiddlewareSpec[];
  cors: CorsSpec | undefined;
}

export interface BoundAddress {
  host: string;
  port: number;
  /** `http://host:port` (or https), ready for a client. */
  url: string;
}

type State = 'built' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * The runtime server (seed `Server`). Direct mode: Fastify serves in this process and
 * forward routes reach the engine over an in-process link. Subprocess mode: web
 * process(es) serve HTTP and reach the engine in this process over a pipe.
 */
export class Server {
  readonly name: string;
  readonly config: ApiConfig;
  readonly ipcConfig: IPCConfig;
  /** The main-process side: register handlers, or read the request queue. */
  readonly engine: Engine;
  private readonly parts: ServerParts;
  private state: State = 'built';
  private direct: { app: FastifyInstance; channel: IPCChannel } | undefined;
  private appReady: Promise<FastifyInstance> | undefined;
  private supervisor: WebSupervisor | undefined;
  private bound: BoundAddress | undefined;
  private stopped: Promise<void> | undefined;
  private resolveStopped: (() => void) | undefined;

  constructor(parts: ServerParts) {
    this.parts = parts;
    this.name = parts.name;
    this.config = parts.api;
    this.ipcConfig = parts.ipc;
    this.engine = new Engine(parts.queues?.requestQ, parts.queues?.responseQ);
  }

  get isSubprocessMode(): boolean {
    return this.parts.queues !== undefined;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** The bound address once listening (port 0 resolved to the real port). */
  get address(): BoundAddress | undefined {
    return this.bound;
  }

  /** The plain-data description of the web side: what a web process is built from. */
  get webSpec(): WebSpec {
    const p = this.parts;
    return { name: p.name, api: p.api.toJSON(), ipc: p.ipc.toJSON(), forwards: p.forwards, modules: p.modules, cors: p.cors };
  }

  /**
   * Direct mode: the Fastify instance (ready once `listen()` resolved, or await `ready()`).
   * Subprocess mode has no Fastify instance in this process: it lives in the web process,
   * where route modules receive it.
   */
  get app(): FastifyInstance {
    if (this.isSubprocessMode) {
      throw new StateError('server.app: in subprocess mode the Fastify app lives in the web process; customise it from a route module (.routes.fromModule(url))');
    }
    if (!this.direct) throw new StateError('server.app: call await server.ready() (or listen()) first; the app is built asynchronously');
    return this.direct.app;
  }

  /** Direct mode: the in-process channel that forward routes use. Null in subprocess mode (it lives in the web process). */
  get ipc(): IPCChannel | null {
    return this.direct?.channel ?? null;
  }

  /** Direct mode: builds the Fastify app (plugins loaded, routes registered) without listening. */
  async ready(): Promise<FastifyInstance> {
    if (this.isSubprocessMode) return this.app;
    this.appReady ??= this.buildDirect();
    return this.appReady;
  }

  private async buildDirect(): Promise<FastifyInstance> {
    const [webSide, engineSide] = memoryLinkPair();
    const channel = new IPCChannel({ maxPending: this.ipcConfig.maxPending, responseTimeout: this.ipcConfig.responseTimeout, replyTo: 'direct' }, webSide);
    this.engine.attach(engineSide, 'direct');
    await channel.start();
    const p = this.parts;
    const app = await buildApp({
      spec: this.webSpec,
      channel,
      extras: { inlineRoutes: p.inlineRoutes, routers: p.routers, exceptionHandlers: p.exceptionHandlers, middleware: p.middleware },
      health: () =>
        webHealth({ mode: 'direct', channel, codec: 'memory', supervisor: { restarts: 0, workers: 1, failed: false }, reporting: this.ipcConfig.enableHealthReporting }),
    });
    await app.ready();
    this.direct = { app, channel };
    return app;
  }

  /** Starts serving without blocking; resolves with the bound address (port 0 gives a free port). */
  async listen(): Promise<BoundAddress> {
    if (this.state !== 'built') throw new StateError(`server.listen(): the server is ${this.state}; a Server starts once`);
    this.state = 'starting';
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    try {
      if (this.isSubprocessMode) {
        this.supervisor = new WebSupervisor({ server: this, spec: this.webSpec, engine: this.engine });
        const { host, port } = await this.supervisor.start();
        this.bound = addressOf(host, port, this.config);
      } else {
        const app = await this.ready();
        await app.listen({ host: this.config.host, port: this.config.port, backlog: this.config.uvicorn.backlog });
        const addr = app.server.address();
        this.bound = addressOf(this.config.host, typeof addr === 'object' && addr ? addr.port : this.config.port, this.config);
      }
    } catch (err) {
      this.state = 'stopped';
      await this.supervisor?.stop(0).catch(() => undefined);
      this.resolveStopped?.();
      throw err;
    }
    this.state = 'running';
    return this.bound;
  }

  /**
   * Subprocess mode: starts the web process and resolves with it once it is listening
   * (seed `start_subprocess`). With several workers, resolves with the first.
   */
  async startSubprocess(): Promise<ChildProcess> {
    if (!this.isSubprocessMode) {
      throw new StateError('server.startSubprocess(): not in subprocess mode; call .subprocess.withIpc(requestQ, responseQ) on the builder, or use start()/listen()');
    }
    await this.listen();
    return this.supervisor!.processes[0]!;
  }

  /** Starts serving and resolves only when the server has stopped: by stop(), SIGINT or SIGTERM. */
  async start(): Promise<void> {
    await this.listen();
    const onSignal = (): void => void this.stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await this.stopped;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /** Resolves when the server has stopped. */
  waitStopped(): Promise<void> {
    return this.stopped ?? Promise.resolve();
  }

  /**
   * Graceful stop: stop accepting, let in-flight requests finish for up to `timeout`
   * seconds, then close what is left (subprocess mode: drain -> terminate -> kill).
   */
  async stop(timeout = 5): Promise<void> {
    if (this.state === 'built') throw new StateError('server.stop(): the server was never started');
    if (this.state === 'stopping' || this.state === 'stopped') return this.stopped;
    this.state = 'stopping';
    try {
      if (this.supervisor) await this.supervisor.stop(timeout);
      if (this.direct) {
        await closeGracefully(this.direct.app, timeout);
        await this.direct.channel.stop();
      }
    } finally {
      this.state = 'stopped';
      this.resolveStopped?.();
    }
  }

  /** @internal Web processes currently alive (subprocess mode). */
  get processes(): ChildProcess[] {
    return this.supervisor?.processes ?? [];
  }

  /** @internal */
  get supervision(): WebSupervisor | undefined {
    return this.supervisor;
  }
}

function addressOf(host: string, port: number, config: ApiConfig): BoundAddress {
  const scheme = config.uvicorn.sslCertfile ? 'https' : 'http';
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { host, port, url: `${scheme}://${shown}:${port}` };
}
