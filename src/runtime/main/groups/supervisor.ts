import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { FromGroup, GroupHello, GroupJoin, GroupProcessState, GroupProcessStatus, GroupSpec, GroupStatus, ToGroup } from '../../../contract/groups.js';
import type { Engine } from '../../../engine/engine.js';
import { StateError } from '../../../errors/index.js';
import type { PipeLink } from '../../../ipc/transports/pipe.js';
import type { ListenerStats } from '../../../ipc/transports/tcp.js';
import type { LocalHub } from '../hub.js';
import { stopChild } from '../../../process/stop-child.js';
import { decideRestart, type RestartPolicy } from '../backoff.js';
import { formatSeconds } from '../format.js';
import { childExecArgv } from '../subprocess.js';
import { GroupRouter, type Member } from './router.js';

const here = fileURLToPath(import.meta.url);
export const GROUP_ENTRY = fileURLToPath(new URL(`../../group/entry${extname(here)}`, import.meta.url));
/** Seconds a group process has to import its module and connect. */
const START_TIMEOUT_S = 30;

export interface GroupSupervisorOptions {
  groups: readonly GroupSpec[];
  /** The started tcp_local endpoint the group processes connect to. */
  hub: LocalHub;
  /** Write the join data here (mode 0600) for processes started by hand. */
  connectFile: string | null;
  engine: Engine;
  policy: RestartPolicy;
  logger: Logger;
  /** A process's state or counts changed (health reporting). */
  onChange: () => void;
}

/** One process of a group: the slot it fills and its current child. */
interface Slot {
  group: GroupSpec;
  index: number;
  child: ChildProcess | undefined;
  exited: Promise<unknown> | undefined;
  spawnId: string;
  state: GroupProcessState;
  member: Member | undefined;
  restarts: number;
  /** Crashes in a row, for the backoff. */
  consecutive: number;
  startedAt: number;
  ready: { resolve: () => void; reject: (err: Error) => void } | undefined;
}

/**
 * Owns the process groups: the signed tcp_local listener their processes connect to,
 * the processes themselves (readiness handshake, restart with the web processes'
 * backoff, failed past maxRestarts, drain on stop), and the relay that dispatches to
 * them. Processes started by hand with the connect file join a group as extra members.
 */
export class GroupSupervisor {
  readonly router: GroupRouter;
  private readonly slots: Slot[] = [];
  private readonly external = new Map<Member, number>();
  /** What each group's processes are told to join (the secret included): kept for restarts. */
  private readonly joins = new Map<string, GroupJoin>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private connectFile: string | null = null;

  constructor(private readonly options: GroupSupervisorOptions) {
    this.router = new GroupRouter(options.groups);
    this.router.onChange = options.onChange;
    for (const group of options.groups) {
      for (let index = 0; index < group.processes; index++) {
        this.slots.push({ group, index, child: undefined, exited: undefined, spawnId: '', state: 'starting', member: undefined, restarts: 0, consecutive: 0, startedAt: 0, ready: undefined });
      }
    }
  }

  get address(): { host: string; port: number } | undefined {
    return this.options.hub.address;
  }

  get transportStats(): ListenerStats | undefined {
    return this.options.hub.stats;
  }

  /** Starts every process and resolves once all are ready (connected to the hub); the engine relays grouped handlers from then on. */
  async start(): Promise<void> {
    this.options.hub.accept('group', (link, hello) => this.onPeer(link, hello as Partial<GroupHello>));
    this.options.engine.useRelay(this.router);
    const joins = this.joins;
    const tcp = this.options.hub.join();
    for (const g of this.options.groups) joins.set(g.name, { ...tcp, group: g.name, module: g.module, handlers: g.handlers });
    if (this.options.connectFile) {
      this.connectFile = this.options.connectFile;
      const groups = Object.fromEntries([...joins].map(([name, j]) => [name, { ...j, group: undefined }]));
      // Created afresh: writing over an existing file would keep its permissions, however open.
      rmSync(this.connectFile, { force: true });
      writeFileSync(this.connectFile, JSON.stringify({ groups }), { mode: 0o600, flag: 'wx' });
    }
    await Promise.all(this.slots.map((s) => this.spawn(s, joins.get(s.group.name)!)));
  }

  /** Starts the slot's process; resolves once it connected and said hello. */
  private spawn(slot: Slot, join: GroupJoin): Promise<void> {
    slot.spawnId = randomUUID();
    slot.state = slot.restarts > 0 ? 'restarting' : 'starting';
    slot.startedAt = performance.now();
    const child = fork(GROUP_ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: childExecArgv(), serialization: 'json' });
    slot.child = child;
    child.on('error', () => undefined);
    slot.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      resolve(undefined);
      this.onExit(slot, child, code, signal);
    }));
    const msg: ToGroup = { type: 'init', join, spawnId: slot.spawnId };
    let fatal = '';
    child.on('message', (m: FromGroup) => {
      if (m.type === 'hello') child.send(msg, () => undefined);
      else if (m.type === 'fatal') fatal = m.message;
    });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new StateError(`process group "${join.group}": process ${slot.index} did not connect within ${START_TIMEOUT_S}s`, 'APPINFRA_ERR_WEB_START'));
      }, START_TIMEOUT_S * 1000);
      const onEarlyExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        reject(new StateError(`process group "${join.group}": process ${slot.index} exited during start-up (code ${code}, signal ${signal})${fatal ? `: ${fatal}` : ''}`, 'APPINFRA_ERR_WEB_START'));
      };
      child.once('exit', onEarlyExit);
      slot.ready = {
        resolve: () => {
          clearTimeout(timer);
          child.off('exit', onEarlyExit);
          resolve();
        },
        reject,
      };
    });
  }

  private onPeer(link: PipeLink, hello: Partial<GroupHello>): boolean {
    if (this.stopping || hello.role !== 'group' || !this.options.groups.some((g) => g.name === hello.group)) return false;
    const group = hello.group!;
    if (hello.spawnId === undefined) {
      // Started by hand with the connect file: an extra member for as long as it is connected.
      const member = this.router.add(group, link);
      this.external.set(member, typeof hello.pid === 'number' ? hello.pid : 0);
      link.onClose(() => this.external.delete(member));
      this.options.logger.info({ group, pid: hello.pid }, 'a process started by hand joined the group');
      return true;
    }
    const slot = this.slots.find((s) => s.spawnId === hello.spawnId && s.group.name === group);
    if (!slot || slot.member || !slot.ready) return false;
    slot.member = this.router.add(group, link);
    slot.state = 'ready';
    slot.ready.resolve();
    slot.ready = undefined;
    this.options.onChange();
    return true;
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    // The link closes with the process; closing it here makes sure its requests end now.
    slot.member?.link.close();
    slot.member = undefined;
    if (this.stopping) return;
    const wasReady = slot.ready === undefined;
    slot.ready = undefined;
    if (!wasReady) return; // start-up failure: start() or the restart path reports it
    this.crashed(slot, code, signal);
  }

  private crashed(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const uptime = (performance.now() - slot.startedAt) / 1000;
    const decision = decideRestart(this.options.policy, slot.consecutive, uptime);
    const group = slot.group.name;
    if (!decision.restart) {
      slot.state = 'failed';
      this.options.logger.error({ group, slot: slot.index, code, signal, restarts: slot.restarts }, `process group "${group}": a process crashed and will not be restarted`);
      this.options.onChange();
      return;
    }
    slot.consecutive = decision.attempt;
    slot.restarts++;
    slot.state = 'restarting';
    this.options.logger.warn({ group, slot: slot.index, code, signal, attempt: decision.attempt }, `process group "${group}": a process crashed; restarting in ${formatSeconds(decision.delay)}`);
    this.options.onChange();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopping) return;
      this.spawn(slot, this.joins.get(group)!).catch((err: unknown) => {
        if (this.stopping) return;
        this.options.logger.error({ group, slot: slot.index, err }, `process group "${group}": restarting a process failed`);
        this.crashed(slot, null, null);
      });
    }, decision.delay * 1000);
    this.timers.add(timer);
  }

  /** Per group and per process: state, pending, served, restarts. */
  status(): GroupStatus[] {
    return this.options.groups.map((g) => {
      const slots = this.slots.filter((s) => s.group === g);
      const members = this.router.readyMembers(g.name);
      const processes: GroupProcessStatus[] = slots.map((s) => ({ slot: s.index, pid: s.child?.pid, state: s.state, pending: s.member?.pending ?? 0, served: s.member?.served ?? 0, restarts: s.restarts }));
      for (const m of members) {
        const pid = this.external.get(m);
        if (pid !== undefined) processes.push({ slot: 'external', pid, state: 'ready', pending: m.pending, served: m.served, restarts: 0 });
      }
      const ready = processes.filter((p) => p.state === 'ready').length;
      const state = ready === 0 && slots.some((s) => s.state === 'failed') ? 'failed' : ready >= g.processes ? 'ok' : 'degraded';
      return { name: g.name, state, processes, restarts: slots.reduce((n, s) => n + s.restarts, 0) };
    });
  }

  /** Drains every process (in-flight requests finish), then terminate -> kill; closes the listener. */
  async stop(timeout: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(
      this.slots.map(async (s) => {
        const child = s.child;
        if (!child || !s.exited || child.exitCode !== null || child.signalCode !== null) return;
        s.state = 'stopping';
        const drain: ToGroup = { type: 'drain', timeout };
        if (child.connected) child.send(drain, () => undefined);
        await stopChild(child, s.exited, timeout * 1000 + 500);
      }),
    );
    if (this.connectFile) rmSync(this.connectFile, { force: true });
  }
}
