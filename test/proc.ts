/** A script run as a real process, `node --import tsx file` as a user would with `npx tsx`, with its output watched. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './helpers.js';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the process exited and all its output is read ('close' comes after 'exit' and the last output). */
  exited: Promise<Exit>;
  /** Waits until `find` returns something from the output so far; fails if the process ends first. */
  until<T>(find: () => T | null | undefined, what: string, ms: number): Promise<T>;
}

export function spawnScript(file: string, args: string[] = [], env: Record<string, string> = {}, stdin: 'ignore' | 'pipe' = 'ignore'): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: [stdin, 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
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
    async until(find, what, ms) {
      let found: ReturnType<typeof find>;
      await waitFor(() => (found = find()) != null || done, ms, `${what} (stdout: ${stdout}; stderr: ${stderr})`);
      found = find();
      if (found == null) throw new Error(`the process exited before ${what}\nstdout: ${stdout}\nstderr: ${stderr}`);
      return found;
    },
  };
}
