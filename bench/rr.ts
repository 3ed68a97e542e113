/**
 * Request/reply over Redis alone, appinfra's backbone against Moleculer 0.15's Redis
 * transporter, with what each side costs: the cores used by the caller, the service and
 * redis-server, and Redis commands per request (INFO commandstats), measured over the same
 * seconds as the rate. For finding what bounds the backbone; `npm run bench` reports the rates.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node dist-bench/rr.js [--seconds 3 --rounds 2 --conns 1,64 --kinds appinfra,moleculer]
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startRedis } from './lib/backbone.js';
import { startServer, stopServer } from './lib/servers.js';
import { clockTicks, coresUsed, processIo, sample, type Sample } from './lib/cpu.js';

const BODY = JSON.stringify({ user: 'bench', text: 'the quick brown fox jumps over the lazy dog', n: 42, tags: ['a', 'b', 'c'], ok: true });
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '1' }, conns: { type: 'string', default: '1,64' }, kinds: { type: 'string', default: 'appinfra,moleculer' } } });
const seconds = Number(values.seconds);
const conns = values.conns.split(',').map(Number);
const kinds = values.kinds.split(',');
const ticks = clockTicks();

const redis = await startRedis();
const port = new URL(redis.url).port;
const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', port, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'appinfra-rr-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
const env = { BENCH_REDIS_URL: redis.url };

/** Calls per command name since the last CONFIG RESETSTAT. */
function commandCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of cli('INFO', 'commandstats').matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const kind of kinds) {
      const service = await startServer({ key: `rr-${kind}`, label: kind, file: 'rr-service.mjs', args: ['--kind', kind, '--secret-file', secretFile] }, env);
      try {
        for (const c of conns) {
          const file = fileURLToPath(new URL('../bench/servers/rr-client.mjs', import.meta.url));
          const child = spawn(process.execPath, [file, '--kind', kind, '--conns', String(c), '--seconds', String(seconds), '--secret-file', secretFile, '--body', BODY], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
          const pids = [child.pid!, service.pids[0]!.pid, redis.pid];
          let start: Sample | undefined;
          let io0: ReturnType<typeof processIo>[] = [];
          let io1: ReturnType<typeof processIo>[] = [];
          let line = '';
          let cpu: ReturnType<typeof coresUsed> | undefined;
          let cmds: Record<string, number> = {};
          for await (const l of createInterface({ input: child.stdout })) {
            if (l === 'BENCH_RR_MEASURING') {
              cli('CONFIG', 'RESETSTAT');
              start = sample(pids);
              io0 = pids.map(processIo);
            } else if (l.startsWith('BENCH_RR ')) {
              if (start) cpu = coresUsed(start, sample(pids), ticks, 2);
              io1 = pids.map(processIo);
              cmds = commandCounts();
              line = l.slice(9);
            }
          }
          const r = JSON.parse(line) as { rps: number; p50Us: number; p99Us: number; n: number; errors: number };
          const per = Object.entries(cmds)
            .filter(([k]) => !['config', 'info'].includes(k))
            .map(([k, v]) => `${k} ${(v / r.n).toFixed(2)}`)
            .join(', ');
          const [client, svc, srv] = pids.map((p) => cpu?.perPid.get(p));
          // Per request and process: CPU µs, read+write syscalls, voluntary context switches (wake-ups). Syscalls are dear on this VM.
          const costs = pids
            .map((p, i) => {
              const a = io0[i];
              const b = io1[i];
              const cores = cpu?.perPid.get(p);
              const us = cores == null ? '?' : ((cores * seconds * 1e6) / r.n).toFixed(1);
              return `${us}µs ${a && b ? `${((b.syscalls - a.syscalls) / r.n).toFixed(2)}sc ${((b.wakeups - a.wakeups) / r.n).toFixed(2)}wk` : '?'}`;
            })
            .join(' / ');
          process.stdout.write(`${kind.padEnd(9)} c=${String(c).padEnd(3)} ${String(r.rps).padStart(6)} req/s p50 ${r.p50Us} µs p99 ${r.p99Us} µs${r.errors ? ` ${r.errors} ERR` : ''} | cores caller ${client} service ${svc} redis ${srv} | per request caller/service/redis: ${costs} | ${per}\n`);
        }
      } finally {
        await stopServer(service);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await redis.stop();
}
