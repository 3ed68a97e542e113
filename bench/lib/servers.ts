import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchOnce } from './http.js';

/** bench/servers/, from bench/lib/ (tsx) and dist-bench/lib/ (built) alike. */
const SERVERS = new URL('../../bench/servers/', import.meta.url);

export interface ServerSpec {
  key: string;
  /** Column heading. */
  label: string;
  file: string;
  args: string[];
  /** Only these cells (default: every cell). */
  cells?: string[];
}

export const SPECS: ServerSpec[] = [
  { key: 'plain', label: 'plain Fastify', file: 'plain.mjs', args: [] },
  { key: 'bridge', label: 'hand bridge', file: 'bridge.mjs', args: [] },
  { key: 'direct-inline', label: 'direct inline', file: 'appinfra.mjs', args: ['--mode', 'direct-inline'] },
  { key: 'direct-forward', label: 'direct forward', file: 'appinfra.mjs', args: ['--mode', 'direct-forward'] },
  { key: 'sub-json', label: 'subprocess (json)', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'json'] },
  { key: 'sub-msgpack', label: 'subprocess (msgpack)', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'msgpack'] },
  { key: 'sub-v8', label: 'subprocess (v8)', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'v8'] },
  // Two web processes sharing the port (uvicorn.workers 2): the HTTP work split over the machine's cores.
  { key: 'sub-json-w2', label: 'subprocess (json), 2 web processes', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'json', '--workers', '2'] },
  // The rate limiter's cost: sub-json with a limit nobody reaches (buckets in the main process, one control round trip per request).
  { key: 'sub-json-rl', label: 'subprocess (json) + rate limit', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'json', '--rate-limit'], cells: ['echo-c64'] },
  // Observability's cost, against sub-json: the OpenTelemetry API loaded with no SDK, and /metrics on.
  { key: 'sub-otel-api', label: 'subprocess + OTel API, no SDK', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'json', '--otel-api'] },
  { key: 'sub-metrics', label: 'subprocess + metrics', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'json', '--metrics'] },
  { key: 'redis-json', label: 'Redis backbone (json)', file: 'appinfra.mjs', args: ['--mode', 'redis', '--codec', 'json'] },
];

export interface Pid {
  /** main (one process), web + parent (hand bridge), web + engine (subprocess mode). */
  role: string;
  pid: number;
}

export interface Running {
  spec: ServerSpec;
  child: ChildProcess;
  url: string;
  /** The processes serving now; a restarted web process replaces its entry. */
  pids: Pid[];
  /** Every pid seen, to check that none is left once stopped. */
  seen: Set<number>;
  /** `started` events of appinfra's web processes (fork to listening, ms). */
  started: { pid: number; ms: number; codeCache?: string }[];
  onStarted?: (e: { pid: number; ms: number }) => void;
  exited: Promise<void>;
}

/** A port free right now, for a server that must not choose its own (cold start polls it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a server program with plain `node` (no loader, whatever runs this file) and
 * resolves once it said BENCH_READY. stdin stays a pipe: when this process goes, so do they.
 */
export function startServer(spec: ServerSpec, env: Record<string, string>, timeoutMs = 30_000): Promise<Running> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(spec.file, SERVERS)), ...spec.args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let r: Running | undefined;
    const started: Running['started'] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${spec.key}: not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!r) reject(new Error(`${spec.key}: exited during start-up (${signal ?? code})`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('BENCH_READY ')) {
        clearTimeout(timer);
        const m = JSON.parse(line.slice(12)) as { url: string; pids: Pid[] };
        r = { spec, child, url: m.url, pids: m.pids, seen: new Set([child.pid!, ...m.pids.map((p) => p.pid)]), started, exited };
        resolve(r);
      } else if (line.startsWith('BENCH_EVENT ')) {
        const e = JSON.parse(line.slice(12)) as { event: string; pid: number; ms: number; codeCache?: string };
        if (e.event !== 'started') return;
        started.push({ pid: e.pid, ms: e.ms, ...(e.codeCache ? { codeCache: e.codeCache } : {}) });
        if (r) {
          r.seen.add(e.pid);
          const web = r.pids.find((p) => p.role === 'web');
          if (web) web.pid = e.pid;
          r.onStarted?.(e);
        }
      } else if (line.trim()) {
        process.stderr.write(`[${spec.key}] ${line}\n`);
      }
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; returns the pids still alive 2 s after the exit (none, normally). */
export async function stopServer(r: Running, graceMs = 10_000): Promise<number[]> {
  if (r.child.exitCode === null && r.child.signalCode === null) {
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
    await r.exited;
    clearTimeout(timer);
  }
  const end = performance.now() + 2000;
  let alive = [...r.seen].filter(isAlive);
  while (alive.length > 0 && performance.now() < end) {
    await sleep(20);
    alive = alive.filter(isAlive);
  }
  for (const pid of alive) process.kill(pid, 'SIGKILL');
  return alive;
}

/** Both routes answer as the benchmark assumes: the echo returns the body, the stream has exactly `chunks` events. */
export async function verify(r: Running, body: string, chunks: number): Promise<void> {
  const echo = await fetchOnce(`${r.url}/echo`, 'POST', body);
  if (echo.status !== 200 || !/^application\/json/.test(echo.type) || JSON.stringify(JSON.parse(echo.text)) !== body) {
    throw new Error(`${r.spec.key}: POST /echo answered ${echo.status} (${echo.type}) ${echo.text.slice(0, 200)}`);
  }
  const sse = await fetchOnce(`${r.url}/sse`, 'GET');
  const events = sse.text.split('\n\n').filter((e) => e.startsWith('data: '));
  const parsed = events.map((e) => JSON.parse(e.slice(6)) as { seq: number });
  if (sse.status !== 200 || !sse.type.startsWith('text/event-stream') || events.length !== chunks || parsed.some((c, i) => c.seq !== i)) {
    throw new Error(`${r.spec.key}: GET /sse answered ${sse.status} (${sse.type}) with ${events.length} events, expected ${chunks}: ${sse.text.slice(0, 200)}`);
  }
}
