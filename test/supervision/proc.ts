/** Runs a main script as a real process (node + tsx, as a user would) and reads its JSON-line output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = fileURLToPath(new URL('./fixtures/main.ts', import.meta.url));

export interface MainProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code and signal once the process exited and its output is read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** JSON lines printed so far. */
  events(): Record<string, any>[];
  /** Waits for the first event `name` matching `where`. */
  event(name: string, where?: (e: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
}

export function startMain(env: Record<string, string> = {}): MainProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close' comes after 'exit' and after the last output: nothing is missed.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const events = (): Record<string, any>[] =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{"event"'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    events,
    async event(name, where = () => true, ms = 20_000) {
      let found: Record<string, any> | undefined;
      await waitFor(() => !!(found = events().find((e) => e.event === name && where(e))) || done, ms, `event ${name} (stdout: ${stdout}; stderr: ${stderr})`);
      if (!found) throw new Error(`main exited before event ${name}\nstdout: ${stdout}\nstderr: ${stderr}`);
      return found;
    },
  };
}
