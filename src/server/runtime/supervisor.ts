import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import type { Engine } from '../../engine/engine.js';
import type { WebSpec } from './adapter/app.js';
import { SubprocessManager, type ExitInfo } from './subprocess.js';
import type { SupervisorStatus } from './web/protocol.js';

/** PM2-style backoff: first delay as configured, x1.5 per consecutive crash, capped. */
export const BACKOFF_FACTOR = 1.5;
export const BACKOFF_CAP_S = 15;
/** Uptime after which a web process counts as healthy and the backoff resets. */
export const HEALTHY_UPTIME_S = 30;

export interface SupervisorOptions {
  server: { name: string };
  spec: WebSpec;
  engine: Engine;
}

export type SupervisorEvents = {
  restart: [{ slot: number; attempt: number; delay: number; exit: ExitInfo }];
  started: [{ slot: number; pid: number | undefined; ms: number }];
  failed: [{ slot: number; restarts: number; exit: ExitInfo }];
};

/**
 * Owns the web processes: starts them, restarts a crashed one with backoff (seed
 * question 3), gives up after `maxRestarts` and reports itself failed, and stops them
 * all. One timer per pending restart, cleared by stop().
 */
export class WebSupervisor extends EventEmitter<SupervisorEvents> {
  private readonly slots: (SubprocessManager | undefined)[] = [];
  private restarts = 0;
  private consecutive = 0;
  private failed = false;
  private stopping = false;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private generation = 0;
  address: { host: string; port: number } | undefined;

  constructor(private readonly options: SupervisorOptions) {
    super();
  }

  get status(): SupervisorStatus {
    return { restarts: this.restarts, workers: this.slots.filter((s) => s?.isAlive()).length, failed: this.failed };
  }

  get processes(): ChildProcess[] {
    return this.slots.filter((s): s is SubprocessManager => !!s?.isAlive()).map((s) => s.process!);
  }

  get restartCount(): number {
    return this.restarts;
  }

  get isFailed(): boolean {
    return this.failed;
  }

  async start(): Promise<{ host: string; port: number }> {
    const first = await this.spawn(0, this.options.spec.api.port);
    this.address = first;
    return first;
  }

  private async spawn(slot: number, port: number): Promise<{ host: string; port: number }> {
    const spec = { ...this.options.spec, api: { ...this.options.spec.api, port } };
    const replyTo = `${this.options.server.name}.w${slot}.g${++this.generation}`;
    const manager = new SubprocessManager({
      spec,
      engine: this.options.engine,
      replyTo,
      logFile: spec.api.logFile,
      supervisor: () => this.status,
    });
    this.slots[slot] = manager;
    const started = performance.now();
    manager.onExit((exit) => this.onExit(slot, manager, exit, started));
    await manager.start();
    this.emit('started', { slot, pid: manager.pid, ms: performance.now() - started });
    this.broadcast();
    return manager.address!;
  }

  private onExit(slot: number, manager: SubprocessManager, exit: ExitInfo, startedAt: number): void {
    if (this.slots[slot] !== manager || this.stopping || exit.expected) return;
    const api = this.options.spec.api;
    const clean = exit.code === 0 && exit.signal === null;
    if (clean || !api.autoRestart) {
      this.slots[slot] = undefined;
      this.broadcast();
      return;
    }
    const uptime = (performance.now() - startedAt) / 1000;
    if (uptime >= HEALTHY_UPTIME_S) this.consecutive = 0;
    if (api.maxRestarts > 0 && this.restarts >= api.maxRestarts) {
      this.failed = true;
      this.slots[slot] = undefined;
      process.emitWarning(`appinfra: web process ${slot} crashed (code ${exit.code}, signal ${exit.signal}) and ${this.restarts} restarts are used up; not restarting`);
      this.emit('failed', { slot, restarts: this.restarts, exit });
      this.broadcast();
      return;
    }
    const delay = Math.min(api.restartDelay * BACKOFF_FACTOR ** this.consecutive, BACKOFF_CAP_S);
    this.consecutive++;
    this.restarts++;
    this.emit('restart', { slot, attempt: this.restarts, delay, exit });
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      const port = this.address?.port ?? api.port;
      this.spawn(slot, port).catch((err: unknown) => {
        // A replacement that cannot start counts as another crash of this slot.
        process.emitWarning(`appinfra: restarting web process ${slot} failed: ${(err as Error).message}`);
      });
    }, delay * 1000);
    this.restartTimers.add(timer);
  }

  private broadcast(): void {
    const status = this.status;
    for (const s of this.slots) s?.tell({ type: 'status', supervisor: status });
  }

  async stop(timeout: number): Promise<void> {
    this.stopping = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    await Promise.all(this.slots.map((s) => s?.stop(timeout)));
  }
}
