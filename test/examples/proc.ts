/** Runs an example (or fixture) as a real process, `node --import tsx file`, as a user would with `npx tsx`. */
import { request } from 'node:http';
import { isAlive } from '../helpers.js';
import { spawnScript, type Spawned } from '../proc.js';

export { ROOT } from '../proc.js';

export interface Running extends Spawned {
  /** Waits for the first stdout line matching `re` and returns its match. */
  line(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Kills the process (SIGKILL) if it still runs, and every pid in `also`; waits for its exit. */
  kill(also?: number[]): Promise<void>;
}

export function run(file: string, env: Record<string, string> = {}): Running {
  const p = spawnScript(file, [], env);
  return Object.assign(p, {
    line: (re: RegExp, ms = 30_000) =>
      p.until(() => p.stdout.split('\n').map((l) => l.match(re)).find((m) => m !== null), `a line ${re}`, ms),
    async kill(also: number[] = []) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
      for (const pid of also) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    },
  });
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
