/** Runs an example (or fixture) as a real process, `node --import tsx file`, as a user would with `npx tsx`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { isAlive, waitFor } from '../helpers.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the process exited and its output is read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the first stdout line matching `re` and returns its match. */
  line(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Kills the process (SIGKILL) if it still runs, and every pid in `also`; waits for its exit. */
  kill(also?: number[]): Promise<void>;
}

export function run(file: string, env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // 'close' comes after 'exit' and after the last output.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
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
    async line(re, ms = 30_000) {
      let m: RegExpMatchArray | null = null;
      const find = (): boolean => stdout.split('\n').some((l) => (m = l.match(re)) !== null);
      await waitFor(() => find() || done, ms, `a line ${re} (stdout: ${stdout}; stderr: ${stderr})`);
      if (!find()) throw new Error(`exited before printing ${re}\nstdout: ${stdout}\nstderr: ${stderr}`);
      return m!;
    },
    async kill(also = []) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      for (const pid of also) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a fresh connection (no keep-alive pool), so the kernel may pick any web process. */
export function hit(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = request(url, { method: init.method ?? (payload === undefined ? 'GET' : 'POST'), headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
