import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { IPCChannel } from '../../channel/channel.js';
import { Engine } from '../../engine/engine.js';
import type { Queue } from '../../engine/queue.js';
import { StateError } from '../../errors/index.js';
import { memoryLinkPair } from '../../ipc/transports/memory.js';
import { pinoLevel } from '../../contract/log-levels.js';
import type { CallbackRef, CorsSpec, ForwardRoute, RouteModule, WebSpec } from '../../contract/web-spec.js';
import type { ApiConfig } from '../../server/config/api.js';
import type { IPCConfig } from '../../server/config/ipc.js';
import type { InProcessExtras } from '../web/extras.js';
import { DEFAULT_STOP_TIMEOUT_S, onStopSignal } from '../../process/signals.js';
import { WebSupervisor, type SupervisorEvents } from './supervisor.js';
import type { RateLimitStore } from '../../ingress/buckets.js';
import type { GroupSpec, GroupStatus, TcpLocalSpec } from '../../contract/groups.js';
import { GroupSupervisor } from './groups/supervisor.js';
import { LocalHub } from './hub.js';
import type { ListenerStats } from '../../ipc/transports/tcp.js';
import type { EngineMetrics } from '../../observability/metrics/engine.js';
import type { Registry } from 'prom-client';
import { Backbone, type BackboneSpec } from './backbone.js';
import { groupRouting, startBackboneWorkers, type ImportHandlers } from './backbone-groups.js';

/** The web side of direct mode, loaded on first use: subprocess mode never loads Fastify here. */
type DirectWeb = typeof import('../web/direct.js');

/** @internal What `ServerBuilder.build()` hands over. */
export interface ServerParts extends InProcessExtras {
  name: string;
  api: ApiConfig;
  ipc: IPCConfig;
  queues: { requestQ: Queue<any>; responseQ: Queue<any> } | undefined;
  forwards: ForwardRoute[];
  modules: RouteModule[];
  cors: CorsSpec | undefined;
  /** Lifecycle callbacks from modules (closures are in `callbacks`, direct mode only). */
  callbackRefs?: CallbackRef[];
  /** Where rate-limit buckets live (default: in memory in this process). */
  rateStore?: RateLimitStore;
  /** Process groups (engine handlers in processes of their own) and their tcp_local settings. */
  groups?: GroupSpec[];
  tcp?: TcpLocalSpec | undefined;
  /** Subprocess mode over the Redis backbone (`.subprocess.withRedis`), with this process's role. */
  backbone?: BackboneSpec;
  /** Imports a process group's module (`--role group:NAME`): user code is imported by the server layer only. */
  importHandlers?: ImportHandlers;
}

export interface BoundAddress {
  host: string;
  port: number;
  /** `http://host:port` (or https), ready for a client. */
  url: string;
}

type State = 'built' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * What a server reports about its web processes (subprocess mode): `started`, `restart`
 * (a crash, restarted after a delay), `recycle` (limitMaxRequests reached), `failed` (a
 * crash that will not be restarted: health answers 503 once none is left), and `exit`
 * (every web process exited cleanly; the server then stops).
 */
export type ServerEvents = SupervisorEvents;

/**
 * The runtime server (seed `Server`). Direct mode: Fastify serves in this process and
 * forward routes reach the engine over an in-process link. Subprocess mode: web
 * process(es) serve HTTP and reach the engine in this process over a pipe.
 */
export class Server extends EventEmitter<ServerEvents> {
  readonly name: string;
  readonly config: ApiConfig;
  readonly ipcConfig: IPCConfig;
  /** The main-process side: register handlers, or read the request queue. */
  readonly engine: Engine;
  private readonly parts: ServerParts;
  private state: State = 'built';
  private direct: { app: FastifyInstance; channel: IPCChannel; web: DirectWeb } | undefined;
  private appReady: Promise<FastifyInstance> | undefined;
  private supervisor: WebSupervisor | undefined;
  private backbone: Backbone | undefined;
  private bound: BoundAddress | undefined;
  private groupSupervisor: GroupSupervisor | undefined;
  /** The tcp_local endpoint (process groups, and web processes when `executionIpc.web`). */
  private hub: LocalHub | undefined;
  /** Throttles health updates to the web processes while group counts change. */
  private groupStatusTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;
  private resolveStopped: (() => void) | undefined;
  /** The engine's (and supervision's) metrics, while `/metrics` or `/_status` is enabled. */
  private engineMetrics: EngineMetrics | undefined;
  private readonly metricAdders: ((registry: Registry) => void)[] = [];

  constructor(parts: ServerParts) {
    super();
    this.parts = parts;
    this.name = parts.name;
    this.config = parts.api;
    this.ipcConfig = parts.ipc;
    this.engine = new Engine(parts.queues?.requestQ, parts.queues?.responseQ, pino({ name: `${parts.name}.engine`, level: pinoLevel(parts.api.uvicorn.logLevel) }));
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
    return { name: p.name, api: p.api.toJSON(), ipc: p.ipc.toJSON(), forwards: p.forwards, modules: p.modules, cors: p.cors, ...(p.callbackRefs?.length ? { callbacks: p.callbackRefs } : {}) };
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
    const channel = new IPCChannel({ maxPending: this.ipcConfig.maxPending, responseTimeout: this.config.responseTimeout, replyTo: 'direct' }, webSide);
    this.engine.attach(engineSide, 'direct');
    await channel.start();
    const p = this.parts;
    let app: FastifyInstance | undefined;
    let web: DirectWeb;
    try {
      web = await import('../web/direct.js');
      app = await web.buildDirectApp({
        spec: this.webSpec,
        channel,
        extras: { inlineRoutes: p.inlineRoutes, routers: p.routers, exceptionHandlers: p.exceptionHandlers, middleware: p.middleware, callbacks: p.callbacks ?? [] },
        ...(p.rateStore ? { rateStore: p.rateStore } : {}),
        ...((p.groups?.length ?? 0) > 0 ? { groups: () => this.groupStatus } : {}),
        ...(this.observing ? { metrics: await this.directMetrics() } : {}),
      });
      await app.ready();
    } catch (err) {
      // A plugin or an ssl file failed: close what was opened so far, then report.
      await app?.close().catch(() => undefined);
      await channel.stop();
      this.closeMetrics();
      throw err;
    }
    this.direct = { app, channel, web };
    return app;
  }

  /**
   * The hook for other subsystems' figures (process groups, a backbone): `add` is called with
   * the main process's prom-client registry once metrics are on (at `listen()`, or now if
   * they already are), to register metrics there, typically with a `collect()` reading the
   * subsystem's state at scrape time. They appear in `/metrics` and feed `/_status`.
   */
  addMetrics(add: (registry: Registry) => void): this {
    this.metricAdders.push(add);
    if (this.engineMetrics) add(this.engineMetrics.registry);
    return this;
  }

  /** The main process's registry gets the subsystems' figures (groups, tcp_local, backbone) and the users' adders. */
  private async withAdders(metrics: EngineMetrics): Promise<EngineMetrics> {
    const { subsystemMetrics } = await import('../../observability/metrics/subsystems.js');
    subsystemMetrics(metrics.registry, { groups: () => this.groupStatus, tcp: () => this.tcpLocalStats, backbone: () => this.backbone?.workerLink?.stats });
    for (const add of this.metricAdders) add(metrics.registry);
    return metrics;
  }

  private get observing(): boolean {
    return this.config.metrics.enabled || this.config.statusPage.enabled;
  }

  /** Direct mode: one process, one registry; the web side adds its figures to the engine's. */
  private async directMetrics(): Promise<EngineMetrics> {
    const { EngineMetrics } = await import('../../observability/metrics/engine.js');
    return this.withAdders((this.engineMetrics = new EngineMetrics(this.engine, 'direct', undefined)));
  }

  /** Subprocess mode: the main process's figures, which every scrape adds to the web processes'. */
  private async subprocessMetrics(): Promise<(() => Promise<unknown[]>) | undefined> {
    if (!this.observing) return undefined;
    const { EngineMetrics } = await import('../../observability/metrics/engine.js');
    const metrics = (this.engineMetrics = new EngineMetrics(this.engine, 'engine', () => {
      const s = this.supervisor;
      return s && { restarts: s.restartCount, recycles: s.recycleCount, workers: s.status.workers, configured: s.status.configured };
    }));
    await this.withAdders(metrics);
    return () => metrics.registry.getMetricsAsJSON();
  }

  private closeMetrics(): void {
    this.engineMetrics?.close();
    this.engineMetrics = undefined;
  }

  /** Starts serving without blocking; resolves with the bound address (port 0 gives a free port). */
  async listen(): Promise<BoundAddress> {
    if (this.state !== 'built') throw new StateError(`server.listen(): the server is ${this.state}; a Server starts once`);
    this.state = 'starting';
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    try {
      const role = this.parts.backbone?.role ?? 'all';
      // On the backbone, only role all runs the process groups here; elsewhere `--role group:NAME` serves them.
      if (role === 'all') await this.startGroups();
      if (this.parts.backbone) {
        this.backbone = new Backbone(this.parts.backbone, this.name, this.ipcConfig.codec, groupRouting(this.parts.groups ?? []));
        await startBackboneWorkers(this.backbone, this.engine, this.parts.groups ?? [], this.parts.importHandlers);
      }
      if (this.backbone && !this.backbone.runsWeb) {
        // The engine role serves no HTTP: it takes work from the backbone until stopped.
        this.bound = { host: '', port: 0, url: '' };
      } else if (this.isSubprocessMode) {
        const metrics = await this.subprocessMetrics();
        const supervisor = new WebSupervisor({
          name: this.name,
          spec: this.webSpec,
          engine: this.engine,
          logger: pino({ name: `${this.name}.supervisor`, level: pinoLevel(this.config.uvicorn.logLevel) }),
          // On the backbone the buckets are in Redis: one limit for the web roles of every machine.
          ...(this.parts.rateStore ? { buckets: this.parts.rateStore } : this.backbone?.runsWeb ? { buckets: this.backbone.rateStore() } : {}),
          ...(this.groupSupervisor ? { groups: () => this.groupStatus } : {}),
          ...(this.hub && this.parts.tcp?.web ? { hub: this.hub } : {}),
          ...(metrics ? { metrics } : {}),
          ...(this.backbone?.runsWeb ? { backbone: this.backbone.webInit() } : {}),
        });
        this.supervisor = supervisor;
        supervisor.on('started', (info) => this.emit('started', info));
        supervisor.on('restart', (info) => this.emit('restart', info));
        supervisor.on('recycle', (info) => this.emit('recycle', info));
        supervisor.on('failed', (info) => this.emit('failed', info));
        // Every web process exited cleanly: the seed's start() returns when its process does.
        supervisor.on('exit', () => {
          this.emit('exit');
          void this.stop(0);
        });
        const { host, port } = await supervisor.start();
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
      await this.stopGroups(0);
      this.closeMetrics();
      await this.backbone?.stop(0).catch(() => undefined);
      if (this.direct) {
        // Built but never served (the port was taken): still run its onClose hooks, plugins may hold resources.
        await this.direct.app.close().catch(() => undefined);
        await this.direct.channel.stop();
      }
      this.resolveStopped?.();
      throw err;
    }
    this.state = 'running';
    return this.bound;
  }

  /**
   * Subprocess mode: starts the web process(es) and resolves once every one is listening
   * (seed `start_subprocess`), with the first; `server.processes` has them all.
   */
  async startSubprocess(): Promise<ChildProcess> {
    if (!this.isSubprocessMode) {
      throw new StateError('server.startSubprocess(): not in subprocess mode; call .subprocess.withIpc(requestQ, responseQ) on the builder, or use start()/listen()');
    }
    if (this.state !== 'built') throw new StateError(`server.startSubprocess(): the server is ${this.state}; a Server starts once (build a new one to start again)`);
    await this.listen();
    return this.supervisor!.processes[0]!;
  }

  /** Starts serving and resolves only when the server has stopped: by stop(), SIGINT or SIGTERM. */
  async start(): Promise<void> {
    await this.listen();
    // A later signal while stopping changes nothing: stop() is under way, and bounded.
    const stopListening = onStopSignal(() => void this.stop());
    try {
      await this.stopped;
    } finally {
      stopListening();
    }
  }

  /** Resolves when the server has stopped. */
  waitStopped(): Promise<void> {
    return this.stopped ?? Promise.resolve();
  }

  /**
   * Graceful stop: stop accepting, let in-flight requests finish for up to `timeout`
   * seconds, then close what is left (subprocess mode: drain -> terminate -> kill).
   * Stopping a server that was never started, or one that stopped, does nothing: cleanup
   * code may call it on every path.
   */
  async stop(timeout = DEFAULT_STOP_TIMEOUT_S): Promise<void> {
    if (this.state === 'built') return this.releaseUnstarted();
    if (this.state === 'stopping' || this.state === 'stopped') return this.stopped;
    this.state = 'stopping';
    try {
      if (this.supervisor) await this.supervisor.stop(timeout);
      // After the web processes: their last requests may still be running on this worker.
      if (this.backbone) await this.backbone.stop(timeout);
      if (this.direct) {
        const until = performance.now() + timeout * 1000;
        await this.direct.web.drainDirectApp(this.direct.app, timeout);
        await this.direct.channel.whenIdle(until - performance.now());
        await this.direct.channel.stop();
      }
      // After the web side: requests it was finishing may still need a group process.
      await this.stopGroups(timeout);
    } finally {
      this.closeMetrics();
      this.state = 'stopped';
      this.resolveStopped?.();
    }
  }

  /** Starts the process groups (before any web process, so a grouped route is served from the first request). */
  private async startGroups(): Promise<void> {
    const groups = this.parts.groups ?? [];
    // The builder fills in tcp_local's settings (defaults included) whenever there is a group.
    const tcp = this.parts.tcp;
    if (!tcp || (groups.length === 0 && !(tcp.web && this.isSubprocessMode))) return;
    const logger = pino({ name: `${this.name}.tcp_local`, level: pinoLevel(this.config.uvicorn.logLevel) });
    this.hub = new LocalHub(tcp, this.ipcConfig.codec, logger);
    await this.hub.start();
    if (groups.length === 0) return;
    this.groupSupervisor = new GroupSupervisor({
      groups,
      hub: this.hub,
      connectFile: tcp.connectFile,
      engine: this.engine,
      policy: this.config,
      logger: pino({ name: `${this.name}.groups`, level: pinoLevel(this.config.uvicorn.logLevel) }),
      onChange: () => {
        if (this.state === 'stopping' || this.state === 'stopped') return;
        this.groupStatusTimer ??= setTimeout(() => {
          this.groupStatusTimer = undefined;
          this.supervisor?.refresh();
        }, 200);
      },
    });
    await this.groupSupervisor.start();
  }

  private async stopGroups(timeout: number): Promise<void> {
    clearTimeout(this.groupStatusTimer);
    this.groupStatusTimer = undefined;
    await this.groupSupervisor?.stop(timeout);
    await this.hub?.close();
    clearTimeout(this.groupStatusTimer);
    this.groupStatusTimer = undefined;
  }

  /** Process groups, per group and per process: state, pending, served, restarts. Empty without groups. */
  get groupStatus(): GroupStatus[] {
    return this.groupSupervisor?.status() ?? [];
  }

  /** The tcp_local transport's counters (accepted frames, refusals by reason, peers dropped); undefined when it is not used. */
  get tcpLocalStats(): ListenerStats | undefined {
    return this.hub?.stats;
  }

  /** @internal The process groups' supervisor (tests, stats). */
  get groups(): GroupSupervisor | undefined {
    return this.groupSupervisor;
  }

  /** Direct mode: `ready()` built the app and its link without listening; close them (onClose hooks run). */
  private async releaseUnstarted(): Promise<void> {
    const building = this.appReady;
    if (!building) return;
    // The engine was attached to this app's link: the server is done, as after any stop.
    this.state = 'stopped';
    await building.catch(() => undefined);
    const direct = this.direct;
    this.direct = undefined;
    if (direct) {
      await direct.app.close();
      await direct.channel.stop();
    }
    this.closeMetrics();
  }

  /** Subprocess mode: the web processes serving now, one per worker slot. Empty before start and after stop. */
  get processes(): ChildProcess[] {
    return this.supervisor?.processes ?? [];
  }

  /** Subprocess mode: the (first) web process serving now (seed `SubprocessManager.process`). */
  get process(): ChildProcess | undefined {
    return this.processes[0];
  }

  /** Subprocess mode: the (first) web process's pid; `undefined` when none runs. Direct mode: this process's pid while running. */
  get pid(): number | undefined {
    if (!this.isSubprocessMode) return this.isRunning ? process.pid : undefined;
    return this.process?.pid;
  }

  /** Subprocess mode: restarts after crashes so far. */
  get restarts(): number {
    return this.supervisor?.restartCount ?? 0;
  }

  /** Subprocess mode: true once a crashed web process will not be restarted (see the `failed` event). */
  get isFailed(): boolean {
    return this.supervisor?.isFailed ?? false;
  }

  /** The Redis backbone's role and worker, when the server runs on it. */
  get backboneRole(): Backbone | undefined {
    return this.backbone;
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
