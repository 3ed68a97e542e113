import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { CallbackError, ListenError, StateError } from '../../errors/index.js';
import type { Engine } from '../../engine/engine.js';
import type { WebSpec } from '../../contract/web-spec.js';
import type { BackboneInit, CodeCacheState } from '../../contract/control.js';
import { decideRestart } from './backoff.js';
import { FallbackResponder } from './fallback.js';
import { formatSeconds } from './format.js';
import { failedHealth } from './health.js';
import { SubprocessManager, type ExitInfo } from './subprocess.js';
import type { FromWeb, MetricsJson, SupervisorStatus } from '../../contract/control.js';
import { TokenBuckets, type RateLimitStore } from '../../ingress/buckets.js';
import type { LocalHub } from './hub.js';
import { MetricsGather } from './metrics-gather.js';

export interface SupervisorOptions {
  name: string;
  spec: WebSpec;
  engine: Engine;
  logger: Logger;
  /** Where rate-limit buckets live (default: in this process, in memory). */
  buckets?: RateLimitStore;
  /** Process groups' status, reported with the web processes'. */
  groups?: () => SupervisorStatus['groups'];
  /** Web processes reach the engine over this tcp_local endpoint instead of their pipe. */
  hub?: LocalHub;
  /** The main process's own figures (engine, supervision), when metrics or the status page are on. */
  metrics?: () => Promise<MetricsJson>;
  /** Web processes join the Redis backbone instead of talking to this process over their pipe. */
  backbone?: BackboneInit;
}

export type SupervisorEvents = {
  /** A web process is listening (at start, after a restart, or as a recycle's replacement). */
  started: [{ slot: number; pid: number | undefined; ms: number; codeCache?: CodeCacheState }];
  /** A web process crashed and will be started again after `delay` seconds. */
  restart: [{ slot: number; pid: number | undefined; attempt: number; delay: number; exit: ExitInfo }];
  /** A web process reached `limitMaxRequests`: a replacement starts, then it drains. */
  recycle: [{ slot: number; pid: number | undefined; served: number }];
  /** A web process crashed and will not be restarted (restarts used up, or auto-restart off). */
  failed: [{ slot: number; pid: number | undefined; restarts: number; exit: ExitInfo }];
  /** Every web process exited cleanly (code 0): nothing is restarted, the server is done. */
  exit: [];
};

/** One web process and the slot it fills. */
interface Worker {
  slot: number;
  manager: SubprocessManager;
  startedAt: number;
  /** A replacement is starting; this one drains once it is up. */
  recycling: boolean;
  /** Its startup callback failed: the same code would fail again, so it is not restarted. */
  callbackFailed?: boolean;
}

/**
 * Owns the web processes (`uvicorn.workers` slots): starts them, restarts a crashed one
 * with backoff (seed question 3), replaces one that has served `limitMaxRequests`
 * without dropping a request, gives up on a slot after `maxRestarts` consecutive crashes
 * and reports itself failed, and stops them all. Every timer, process and socket it
 * creates is closed by stop().
 */
export class WebSupervisor extends EventEmitter<SupervisorEvents> {
  /** The process serving each slot (undefined while a restart is pending, or given up). */
  private readonly current: (Worker | undefined)[] = [];
  /** Every process this supervisor owns: serving, starting, draining. */
  private readonly all = new Set<Worker>();
  /** Crashes in a row per slot, without a healthy uptime in between. */
  private readonly consecutive: number[] = [];
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly fallback: FallbackResponder;
  /** One set of rate-limit buckets for every web process: the server's limit, not n times it. */
  private readonly buckets: RateLimitStore;
  private readonly gatherer: MetricsGather | undefined;
  private restarts = 0;
  private recycles = 0;
  private failed = false;
  private started = false;
  private stopping = false;
  private generation = 0;
  /**
   * The port every web process is told to listen on. Cluster workers share one listening
   * socket per (host, port) the primary knows, so port 0 is resolved to a free port here
   * first: two servers in one process asking for port 0 would otherwise share one socket.
   */
  private listenPort: number;
  address: { host: string; port: number } | undefined;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.listenPort = options.spec.api.port;
    this.buckets = options.buckets ?? new TokenBuckets();
    if (options.metrics) this.gatherer = new MetricsGather(options.metrics);
    this.fallback = new FallbackResponder(() =>
      failedHealth({
        supervisor: this.status,
        pending: options.engine.pendingCount,
        maxPending: options.spec.ipc.maxPending,
        codec: options.spec.ipc.codec,
        reporting: options.spec.ipc.enableHealthReporting,
      }),
    );
  }

  private get api(): WebSpec['api'] {
    return this.options.spec.api;
  }

  get status(): SupervisorStatus {
    const groups = this.options.groups?.();
    return { restarts: this.restarts, workers: this.serving().length, configured: this.api.uvicorn.workers, failed: this.failed, ...(groups ? { groups } : {}) };
  }

  /** The web processes serving now, by slot (a recycle's replacement once it took over). */
  get processes(): ChildProcess[] {
    return this.serving().map((w) => w.manager.process!);
  }

  get restartCount(): number {
    return this.restarts;
  }

  get recycleCount(): number {
    return this.recycles;
  }

  get isFailed(): boolean {
    return this.failed;
  }

  private serving(): Worker[] {
    return this.current.filter((w): w is Worker => !!w && w.manager.isAlive() && !!w.manager.address);
  }

  /** Starts every slot; resolves once all listen on one port. */
  async start(): Promise<{ host: string; port: number }> {
    if (this.started || this.stopping) throw new StateError('WebSupervisor.start(): already started; a supervisor starts once');
    const n = this.api.uvicorn.workers;
    this.listenPort = await probePort(this.api.host, this.listenPort);
    // The first one binds; the others join its socket.
    const first = await this.spawn(0, true);
    this.address = first.manager.address;
    const rest = await Promise.allSettled(Array.from({ length: n - 1 }, (_, i) => this.spawn(i + 1, true)));
    const failure = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    this.started = true;
    this.broadcast();
    return this.address!;
  }

  /**
   * Starts a web process for `slot`. With `takeSlot` it serves the slot from the start,
   * so a crash during start-up counts as the slot's crash; a recycle's replacement only
   * takes over once it listens.
   */
  private async spawn(slot: number, takeSlot: boolean): Promise<Worker> {
    const spec = { ...this.options.spec, api: { ...this.api, port: this.listenPort } };
    const replyTo = `${this.options.name}.w${slot}.g${++this.generation}`;
    const manager = new SubprocessManager({ spec, engine: this.options.engine, replyTo, logFile: spec.api.logFile, supervisor: () => this.status, buckets: this.buckets, ...(this.options.hub ? { hub: this.options.hub } : {}), ...(this.options.backbone ? { backbone: this.options.backbone } : {}) });
    const worker: Worker = { slot, manager, startedAt: performance.now(), recycling: false };
    this.all.add(worker);
    if (takeSlot) this.current[slot] = worker;
    manager.onExit((exit) => this.onExit(worker, exit));
    manager.onMessage((msg) => this.onMessage(worker, msg));
    try {
      await manager.start();
    } catch (err) {
      // No process came up at all (for example the log file cannot be opened): no exit will tell us.
      if (!manager.process) this.all.delete(worker);
      if (err instanceof CallbackError) worker.callbackFailed = true;
      throw err;
    }
    const port = manager.address!.port;
    if (this.address && port !== this.address.port) {
      // Cannot happen while every process asks for the same concrete port; a guard, not a path.
      manager.process?.kill('SIGKILL');
      throw new StateError(`web process ${slot} bound port ${port} instead of ${this.address.port}`);
    }
    this.emit('started', { slot, pid: manager.pid, ms: performance.now() - worker.startedAt, ...(manager.codeCache ? { codeCache: manager.codeCache } : {}) });
    return worker;
  }

  private onMessage(worker: Worker, msg: FromWeb): void {
    if (msg.type === 'served') void this.recycle(worker, msg.count);
    else if (msg.type === 'metrics') this.gatherer?.received(msg.id, msg.metrics);
    else if (msg.type === 'scrape' && this.gatherer) {
      void this.gatherer.gather(this.serving().map((w) => w.manager)).then((metrics) => worker.manager.tell({ type: 'scraped', id: msg.id, metrics }));
    }
  }

  /** Start first, then drain: capacity never drops and no request is cut. */
  private async recycle(old: Worker, served: number): Promise<void> {
    if (this.stopping || !this.started || old.recycling || this.current[old.slot] !== old) return;
    old.recycling = true;
    this.recycles++;
    this.emit('recycle', { slot: old.slot, pid: old.manager.pid, served });
    let next: Worker;
    try {
      next = await this.spawn(old.slot, false);
    } catch (err) {
      old.recycling = false;
      if (this.stopping) return;
      this.options.logger.warn({ slot: old.slot, err }, 'recycling a web process failed: its replacement did not start; it keeps serving');
      return;
    }
    if (this.stopping || this.current[old.slot] !== old) {
      // The slot changed while the replacement started (the old one crashed, or we stop): not needed.
      void next.manager.stop(0);
      return;
    }
    this.current[old.slot] = next;
    this.broadcast();
    void old.manager.stop(this.api.responseTimeout);
  }

  private onExit(worker: Worker, exit: ExitInfo): void {
    this.all.delete(worker);
    const { slot, manager } = worker;
    if (this.stopping) return;
    if (this.current[slot] !== worker) {
      // A recycled process that finished draining, or a replacement that never took over.
      this.broadcast();
      return;
    }
    // A failed start is start()'s to report, not a crash to restart.
    if (!this.started || exit.expected) {
      this.current[slot] = undefined;
      return;
    }
    this.current[slot] = undefined;
    if (worker.callbackFailed) {
      // A restart would run the same failing callback again: a loop, not a repair.
      this.giveUp(slot, manager.pid, exit);
      return;
    }
    if (exit.code === 0 && exit.signal === null) {
      this.options.logger.info({ slot, pid: manager.pid }, 'web process exited cleanly; not restarted');
      this.broadcast();
      if (this.all.size === 0 && this.restartTimers.size === 0 && !this.failed) this.emit('exit');
      return;
    }
    this.onCrash(slot, manager.pid, worker.startedAt, exit);
  }

  /** A slot's process died (or its replacement could not start): restart it with backoff, or give up. */
  private onCrash(slot: number, pid: number | undefined, startedAt: number, exit: ExitInfo): void {
    const decision = decideRestart(this.api, this.consecutive[slot] ?? 0, (performance.now() - startedAt) / 1000);
    const maxRestarts = this.api.maxRestarts;
    if (!decision.restart) {
      this.giveUp(slot, pid, exit);
      return;
    }
    const { attempt, delay } = decision;
    this.consecutive[slot] = attempt;
    this.restarts++;
    this.options.logger.warn({ slot, pid, code: exit.code, signal: exit.signal, attempt, maxRestarts, delay }, `web process crashed; restarting in ${formatSeconds(delay)}`);
    this.emit('restart', { slot, pid, attempt, delay, exit });
    this.broadcast();
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      const attemptAt = performance.now();
      this.spawn(slot, true)
        .then(() => this.broadcast())
        .catch((err: unknown) => {
          // A replacement that exits during start-up is another crash, seen by onExit. One
          // that never became a process has no exit to wait for: counted here instead.
          this.options.logger.error({ slot, err }, 'restarting a web process failed');
          if (this.current[slot]?.manager.process === undefined && !this.stopping) {
            this.current[slot] = undefined;
            this.onCrash(slot, undefined, attemptAt, { code: null, signal: null, expected: false });
          }
        });
    }, delay * 1000);
    this.restartTimers.add(timer);
  }

  private giveUp(slot: number, pid: number | undefined, exit: ExitInfo): void {
    this.failed = true;
    const restarts = this.restarts;
    this.options.logger.error(
      { slot, pid, code: exit.code, signal: exit.signal, restarts, maxRestarts: this.api.maxRestarts, autoRestart: this.api.autoRestart },
      'web process crashed and will not be restarted; the server is failed',
    );
    this.emit('failed', { slot, pid, restarts, exit });
    this.broadcast();
    if (this.serving().length === 0 && this.address) {
      const { host, port } = this.address;
      void this.fallback.open(host, port).then(async (ok) => {
        // stop() may have run while the port was being bound.
        if (this.stopping) await this.fallback.close();
        else if (!ok) this.options.logger.error({ host, port }, 'no web process is left and the port could not be bound to answer 503');
      });
    }
  }

  /** Tells every web process the status again (a process group changed). */
  refresh(): void {
    this.broadcast();
  }

  private broadcast(): void {
    const status = this.status;
    for (const w of this.all) w.manager.tell({ type: 'status', supervisor: status });
  }

  /** Drains and stops every web process (drain -> terminate -> kill), and what else is open. */
  async stop(timeout: number): Promise<void> {
    this.stopping = true;
    this.gatherer?.close();
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    await Promise.all([this.fallback.close(), ...[...this.all].map((w) => w.manager.stop(timeout))]);
  }
}

/**
 * Binds `port` (0: any free port) on `host` and lets it go, returning the port.
 *
 * Cluster workers asking for the same (host, port) are handed the primary's existing
 * socket, so without this a second server of this process asking for a port its first
 * server holds would silently share it instead of failing with EADDRINUSE, and two servers
 * asking for port 0 would share one socket. Another program could take the port between
 * this probe and the bind; the web process then fails to start, which start() reports.
 */
function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(host, port, err.code ?? err.message)));
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
}
