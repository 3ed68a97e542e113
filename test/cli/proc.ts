/** Runs scripts as real processes (node + tsx, as a user would) and watches their output. */
import { fileURLToPath } from 'node:url';
import { spawnScript, type Exit, type Spawned } from '../proc.js';

export { ROOT } from '../proc.js';
export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface Running extends Spawned {
  /** The same as `exited`: the process exited and its output pipes are closed. */
  closed: Promise<Exit>;
  /** Resolves with the first match of `re` in stdout. */
  waitForOutput(re: RegExp, ms?: number): Promise<RegExpExecArray>;
}

export function start(script: string, args: string[], env: Record<string, string> = {}): Running {
  const p = spawnScript(script, args, env);
  return Object.assign(p, {
    closed: p.exited,
    waitForOutput: (re: RegExp, ms = 20_000) => p.until(() => re.exec(p.stdout), `output ${re}`, ms),
  });
}

/** Runs to completion; resolves with exit code and output. */
export async function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = start(script, args, env);
  const { code } = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** Stops a process with `signal` and resolves with how it exited. */
export async function stop(p: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}
