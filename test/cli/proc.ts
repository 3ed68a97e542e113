/** Runs scripts as real processes (node + tsx, as a user would) and watches their output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the process exited and its output pipes are closed (all output read). */
  closed: Promise<void>;
  /** Resolves with the first match of `re` in stdout. */
  waitForOutput(re: RegExp, ms?: number): Promise<RegExpExecArray>;
}

export function start(script: string, args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    closed,
    async waitForOutput(re, ms = 20_000) {
      let m: RegExpExecArray | null = null;
      await waitFor(() => (m = re.exec(stdout)) !== null || done, ms, `output ${re} (stdout so far: ${stdout}; stderr: ${stderr})`);
      if (!m) throw new Error(`process exited before printing ${re}\nstdout: ${stdout}\nstderr: ${stderr}`);
      return m;
    },
  };
}

/** Runs to completion; resolves with exit code and output. */
export async function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = start(script, args, env);
  const { code } = await p.exited;
  // 'exit' can come before the last 'data' events of the pipes.
  await p.closed;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** Stops a process with `signal` and resolves with how it exited. */
export async function stop(p: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}
