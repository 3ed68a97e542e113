import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { CallbackError, StateError } from '../../errors/index.js';
import { codecByName } from '../../ipc/codecs/index.js';
import { PipeLink } from '../../ipc/transports/pipe.js';
import type { Engine } from '../../engine/engine.js';
import type { WebSpec } from '../../contract/web-spec.js';
import { DEFAULT_STOP_TIMEOUT_S } from '../../process/signals.js';
import { forkWeb } from './fork.js';
import { stopChild } from '../../process/stop-child.js';
import { within } from '../../process/within.js';
import type { RateLimitStore, TakeResult } from '../../ingress/buckets.js';
import type { Link } from '../../ipc/transports/link.js';
import type { LocalHub } from './hub.js';
import { DATA_FD, type BackboneInit, type CodeCacheState, type FromWeb, type SupervisorStatus, type ToWeb } from '../../contract/control.js';

const here = fileURLToPath(import.meta.url);
/**
 * The web process's entry: the loader of the single-file bundle `npm run build` makes (a
 * start compiles one file, from a V8 code cache, instead of loading a few hundred modules),
 * built as CommonJS so that a start needs no ES module loader; else the entry beside this
 * file (`.ts` under a TypeScript loader).
 */
export const WEB_ENTRY = webEntry();

function webEntry(): string {
  if (extname(here) === '.js') {
    const bundle = fileURLToPath(new URL('../../web-entry.bundle.cjs', import.meta.url));
    if (existsSync(bundle)) return fileURLToPath(new URL('../web/bundle-loader.cjs', import.meta.url));
  }
  return fileURLToPath(new URL(`../web/entry${extname(here)}`, import.meta.url));
}

/** Loader flags (tsx, source maps) the child needs to run the same code; nothing else is passed on. */
export function childExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--(import|loader|experimental-loader|require|conditions)$/.test(a) || a === '-r' || a === '-C') {
      out.push(a, argv[++i]!);
    } else if (/^--(import|loader|experimental-loader|require|conditions)=/.test(a) || a === '--enable-source-maps') {
      out.push(a);
    }
  }
  return out;
}

export interface SubprocessOptions {
  spec: WebSpec;
  engine: Engine;
  replyTo: string;
  logFile: string | null;
  /** Seconds to wait for the web process to report it is listening. */
  startTimeout?: number;
  supervisor: () => SupervisorStatus;
  /** The rate-limit buckets every web process of the server shares. */
  buckets?: RateLimitStore;
  /** Link over this tcp_local endpoint (signed) instead of the inherited pipe. */
  hub?: LocalHub;
  /** Web processes join the Redis backbone instead of talking to this process over their pipe. */
  backbone?: BackboneInit;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stop() asked for it. */
  expected: boolean;
}

/**
 * Owns one web process (seed `SubprocessManager`): spawns it with the data pipe and log
 * isolation, waits for its readiness handshake, attaches its link to the engine, and
 * stops it with drain -> terminate -> kill.
 */
export class SubprocessManager {
  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private stopping = false;
  private drainSent = false;
  private exitListeners: ((info: ExitInfo) => void)[] = [];
  private messageListeners: ((msg: FromWeb) => void)[] = [];
  address: { host: string; port: number } | undefined;
  /** From its `ready`: whether it started from the bundle's V8 code cache (built package only). */
  codeCache: CodeCacheState | undefined;

  constructor(private readonly options: SubprocessOptions) {}

  get process(): ChildProcess | undefined {
    return this.child;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  isAlive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** True once stop() was called: an exit from now on is expected, not a crash. */
  get isStopping(): boolean {
    return this.stopping;
  }

  onExit(listener: (info: ExitInfo) => void): void {
    this.exitListeners.push(listener);
  }

  /** Control messages from the web process after its handshake (for example `served`). */
  onMessage(listener: (msg: FromWeb) => void): void {
    this.messageListeners.push(listener);
  }

  /** Spawns the web process; resolves once it listens (its bound port is in `address`). */
  async start(): Promise<ChildProcess> {
    if (this.child) throw new StateError('SubprocessManager.start(): already started; stop() it first');
    const { spec, logFile } = this.options;
    let out: number | 'inherit' = 'inherit';
    if (logFile) {
      mkdirSync(dirname(logFile), { recursive: true });
      out = openSync(logFile, 'a');
    }
    let child: ChildProcess;
    try {
      child = forkWeb(WEB_ENTRY, { stdio: ['ignore', out, out, 'ipc', 'pipe'], execArgv: childExecArgv() });
    } finally {
      // The child has its own copy of the descriptor; ours is not needed any more.
      if (typeof out === 'number') closeSync(out);
    }
    this.child = child;
    // A send to a process that just died reports EPIPE here; its exit is handled below.
    child.on('error', () => undefined);
    child.on('message', (msg: FromWeb) => {
      if (msg.type === 'rate') {
        void this.takeToken(msg);
        return;
      }
      for (const l of this.messageListeners) l(msg);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const info = { code, signal, expected: this.stopping };
        resolve(info);
        for (const l of this.exitListeners) l(info);
      });
    });
    const { hub, replyTo, engine } = this.options;
    const attach = (link: Link): void => {
      engine.attach(link, replyTo);
      child.once('exit', () => link.close());
    };
    let linked: Promise<void> | undefined;
    if (hub) {
      // The web process connects and says hello as `replyTo`: the link is attached when it does.
      linked = new Promise((resolve) => {
        const cancel = hub.expectWeb(replyTo, (link) => {
          attach(link);
          resolve();
        });
        child.once('exit', cancel);
      });
    } else {
      attach(new PipeLink(child.stdio[DATA_FD] as Socket, { codec: codecByName(spec.ipc.codec), maxFrameBytes: spec.ipc.maxPayloadBytes, name: replyTo }));
    }

    const init: ToWeb = { type: 'init', spec, replyTo, supervisor: this.options.supervisor(), ...(hub ? { tcp: hub.join() } : {}) };
    if (this.options.backbone) init.backbone = this.options.backbone;
    const onHello = (msg: FromWeb): void => {
      if (msg.type !== 'hello') return;
      child.off('message', onHello);
      this.tell(init);
    };
    child.on('message', onHello);
    child.once('exit', () => child.off('message', onHello));
    const address = await this.waitReady(child);
    // It connected before it built its app, so its hello is in; a lost one leaves a process without a link: not ready.
    if (linked && !(await within(linked, 5000))) {
      child.kill('SIGKILL');
      throw new StateError('The web process listens but its tcp_local link never arrived', 'APPINFRA_ERR_WEB_START');
    }
    this.address = address;
    return child;
  }

  private waitReady(child: ChildProcess): Promise<{ host: string; port: number }> {
    const seconds = this.options.startTimeout ?? 30;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        child.kill('SIGKILL');
        reject(new StateError(`The web process did not start listening within ${seconds}s`, 'APPINFRA_ERR_WEB_START'));
      }, seconds * 1000);
      const onMessage = (msg: FromWeb): void => {
        if (msg.type === 'ready') {
          cleanup();
          this.codeCache = msg.codeCache;
          resolve({ host: msg.host, port: msg.port });
        } else if (msg.type === 'fatal') {
          cleanup();
          // A startup callback's failure is the user's to fix: the same error as in direct mode.
          if (msg.callback) reject(CallbackError.fromMessage(msg.callback.stage, msg.callback.name, msg.message));
          else reject(new StateError(`The web process failed to start: ${msg.message}`, 'APPINFRA_ERR_WEB_START'));
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        reject(new StateError(`The web process exited during start-up (code ${code}, signal ${signal})${this.options.logFile ? `; see ${this.options.logFile}` : ''}`, 'APPINFRA_ERR_WEB_START'));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  /** Answers a web process's rate-limit takes from the shared buckets, in one message. */
  private async takeToken(msg: Extract<FromWeb, { type: 'rate' }>): Promise<void> {
    const store = this.options.buckets;
    // A web process only asks when its spec has a limit; the supervisor always passes buckets.
    // A store that cannot answer (Redis unreachable) lets the request through: the limit must
    // not turn an outage of its store into an outage of the API (the backbone's own health
    // answers 503 while Redis is away).
    const open: TakeResult = { allowed: true, remaining: 0, resetMs: 0 };
    let later = false;
    const taken = msg.takes.map((t): TakeResult | Promise<TakeResult> => {
      if (!store) return open;
      try {
        const r = store.take(t.bucket, t.key, t.rule);
        if (r instanceof Promise) later = true;
        return r;
      } catch {
        return open;
      }
    });
    // The in-memory store answers at once: no promise per take unless one is pending.
    const results = later ? await Promise.all(taken.map((r) => Promise.resolve(r).catch(() => open))) : (taken as TakeResult[]);
    this.tell({ type: 'rate', first: msg.first, results });
  }

  /** Sends a control message if the process is alive. */
  tell(msg: ToWeb): void {
    if (this.child?.connected) this.child.send(msg, () => undefined);
  }

  /**
   * Seed's graceful shutdown: ask the web process to drain (stop accepting, finish
   * in-flight requests) for up to `timeout` seconds, then terminate, then kill.
   */
  async stop(timeout = DEFAULT_STOP_TIMEOUT_S): Promise<ExitInfo | undefined> {
    const child = this.child;
    if (!child || !this.exited) return undefined;
    this.stopping = true;
    if (!this.isAlive()) return this.exited;
    // Called again (a stop during a recycle's drain) it only shortens the wait.
    if (!this.drainSent) {
      this.drainSent = true;
      this.tell({ type: 'drain', timeout });
    }
    await stopChild(child, this.exited, timeout * 1000 + 500);
    return this.exited;
  }
}
