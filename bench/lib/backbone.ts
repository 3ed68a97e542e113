/**
 * The Redis backbone in `npm run bench`: one redis-server for the run (its own port and
 * temp dir, no persistence), and request/reply over it side by side with Moleculer 0.15's
 * Redis transporter: a service process answering `echo`, a caller process keeping N calls
 * in flight, the same body, interleaved per round. The HTTP cells of the `redis-json`
 * server (echo and SSE over Redis) are read against `sub-json` (the pipe) from the same run.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startServer, stopServer } from './servers.js';
import type { CellResult } from './result.js';
import { median } from './stats.js';

const SERVERS = new URL('../../bench/servers/', import.meta.url);
const KINDS = ['appinfra', 'moleculer'] as const;
type Kind = (typeof KINDS)[number];

export interface RRRun {
  rps: number;
  p50Us: number;
  p99Us: number;
  n: number;
  errors: number;
}

export interface BackboneResult {
  redis: string;
  /** Per kind and concurrency: medians over rounds, and the runs. */
  requestReply: Record<Kind, Record<string, RRRun & { runs: RRRun[] }>>;
  /** The HTTP cells over Redis against the pipe (ratio of medians). */
  redisVsPipe: Record<string, number>;
}

export interface BenchRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'appinfra-bench-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await promisify(execFile)('redis-cli', ['-p', String(port), 'ping']).then((r) => r.stdout.includes('PONG'), () => false);
    if (ok) break;
    if (Date.now() > end) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Request/reply over Redis: appinfra's backbone and Moleculer's transporter, `rounds` x each concurrency. */
export async function requestReply(redisUrl: string, body: string, conns: number[], seconds: number, rounds: number, log: (s: string) => void): Promise<BackboneResult['requestReply']> {
  const dir = mkdtempSync(join(tmpdir(), 'appinfra-bench-rr-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const env = { BENCH_REDIS_URL: redisUrl };
  const runs: Record<Kind, Record<string, RRRun[]>> = { appinfra: {}, moleculer: {} };
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
      for (const kind of order) {
        const service = await startServer({ key: `rr-${kind}`, label: kind, file: 'rr-service.mjs', args: ['--kind', kind, '--secret-file', secretFile] }, env);
        try {
          for (const c of conns) {
            const r = await client(kind, c, seconds, secretFile, body, env);
            (runs[kind][`c${c}`] ??= []).push(r);
            log(`  rr ${kind.padEnd(9)} c=${String(c).padEnd(3)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50Us} µs  p99 ${r.p99Us} µs${r.errors ? `  ${r.errors} ERRORS` : ''}\n`);
          }
        } finally {
          await stopServer(service);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = { appinfra: {}, moleculer: {} } as BackboneResult['requestReply'];
  for (const kind of KINDS) {
    for (const [key, rs] of Object.entries(runs[kind])) {
      out[kind][key] = { rps: median(rs.map((r) => r.rps)), p50Us: median(rs.map((r) => r.p50Us)), p99Us: median(rs.map((r) => r.p99Us)), n: rs.reduce((a, r) => a + r.n, 0), errors: rs.reduce((a, r) => a + r.errors, 0), runs: rs };
    }
  }
  return out;
}

async function client(kind: Kind, conns: number, seconds: number, secretFile: string, body: string, env: Record<string, string>): Promise<RRRun> {
  const file = fileURLToPath(new URL('rr-client.mjs', SERVERS));
  const args = [file, '--kind', kind, '--conns', String(conns), '--seconds', String(seconds), '--secret-file', secretFile, '--body', body];
  const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, ...env }, timeout: (seconds + 30) * 1000, killSignal: 'SIGKILL' });
  const line = /BENCH_RR (\{.*\})/.exec(stdout);
  if (!line) throw new Error(`rr-client ${kind} printed no result:\n${stdout}`);
  return JSON.parse(line[1]!) as RRRun;
}

/** Redis backbone against the pipe, per HTTP cell: ratio of the medians. */
export function redisVsPipe(cells: CellResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cells) {
    const redis = c.results['redis-json'];
    const pipe = c.results['sub-json'];
    if (!redis || !pipe) continue;
    const metric = (x: { rps: number; chunksPerSec?: number }): number => x.chunksPerSec ?? x.rps;
    out[c.key] = Math.round((metric(redis) / metric(pipe)) * 100) / 100;
  }
  return out;
}

export function backboneMarkdown(b: BackboneResult): string {
  const lines: string[] = [];
  lines.push(`Redis backbone (one redis-server 7 on 127.0.0.1; web process and engine worker in two processes, role all):`);
  lines.push('');
  lines.push('| cell | Redis / pipe |');
  lines.push('| --- | ---: |');
  for (const [k, v] of Object.entries(b.redisVsPipe)) lines.push(`| ${k} | ${v.toFixed(2)}x |`);
  lines.push('');
  lines.push('Request/reply over the same redis-server, no HTTP: a caller process keeping N calls in flight, a service process answering echo (same body):');
  lines.push('');
  lines.push('| | req/s | p50 | p99 |');
  lines.push('| --- | ---: | ---: | ---: |');
  for (const kind of KINDS) {
    for (const [c, r] of Object.entries(b.requestReply[kind])) {
      lines.push(`| ${kind === 'appinfra' ? 'appinfra backbone' : 'Moleculer 0.15 Redis transporter'} ${c.replace('c', 'c=')} | ${r.rps.toLocaleString('en-US')} | ${r.p50Us.toLocaleString('en-US')} µs | ${r.p99Us.toLocaleString('en-US')} µs |`);
    }
  }
  return lines.join('\n');
}
