/**
 * `npm run bench:rss`: is memory flat under load? Drives POST /echo (the bench's ~100-byte
 * JSON body, keep-alive, wrk -t1) at least `--requests` times (default 1,000,000) at `--conns` (64)
 * against appinfra in subprocess mode (bench/servers/appinfra.mjs, json codec), and samples
 * the resident set size of the web process and of the main process (the engine) from /proc
 * every `--every` seconds (2).
 *
 * Reports, per process: RSS before the load, after the first tenth of it (JIT, pools and
 * buffers grown), at the end, the maximum, and the growth over the last nine tenths (what a
 * leak would show as). Samples go to bench/results/rss-<timestamp>.json (git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rssMb } from './lib/rss.js';
import { SPECS, startServer, stopServer, verify } from './lib/servers.js';
import { wrk, writeScripts } from './lib/wrk.js';

const BODY = JSON.stringify({ user: 'bench', text: 'the quick brown fox jumps over the lazy dog', n: 42, tags: ['a', 'b', 'c'], ok: true });
const RESULTS = fileURLToPath(new URL('../bench/results/', import.meta.url));
const argv = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const n = Number(i >= 0 ? argv[i + 1] : fallback);
  if (!(n > 0)) throw new Error(`--${name}: a positive number\nusage: npm run bench:rss [-- --requests 1000000 --conns 64 --every 2]`);
  return n;
}
const requests = option('requests', 1_000_000);
const conns = option('conns', 64);
const every = option('every', 2);

interface Sample {
  s: number;
  web: number | undefined;
  main: number | undefined;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'appinfra-rss-'));
  const { post } = writeScripts(dir, BODY);
  const spec = SPECS.find((s) => s.key === 'sub-json')!;
  const server = await startServer(spec, { BENCH_SSE_CHUNKS: '16' });
  const samples: Sample[] = [];
  let leaked: number[];
  const done = { requests: 0, seconds: 0, errors: 0 };
  try {
    await verify(server, BODY, 16);
    const web = server.pids.find((p) => p.role === 'web')!.pid;
    const engine = server.pids.find((p) => p.role === 'engine')!.pid;
    const t0 = performance.now();
    const take = (): void => {
      samples.push({ s: Math.round(performance.now() - t0) / 1000, web: rssMb(web), main: rssMb(engine) });
    };
    take();
    const timer = setInterval(take, every * 1000);
    process.stderr.write(`rss: ${requests} POST /echo at c=${conns} against ${spec.label} (web ${web}, main ${engine}), RSS every ${every} s\n`);
    try {
      // wrk only runs for a duration: runs of up to 10 s until the count is reached, the last
      // one sized by the rate so far (the connections are opened again between runs).
      while (done.requests < requests) {
        const rate = done.seconds > 0 ? done.requests / done.seconds : 10_000;
        const w = await wrk(`${server.url}/echo`, post, conns, Math.max(1, Math.min(10, Math.ceil((requests - done.requests) / rate))));
        done.requests += w.requests;
        done.seconds += w.seconds;
        done.errors += w.errors;
        process.stderr.write(`  ${done.requests.toLocaleString('en-US')} requests, web ${rssMb(web)?.toFixed(1)} MB, main ${rssMb(engine)?.toFixed(1)} MB\n`);
      }
    } finally {
      clearInterval(timer);
    }
    take();
    if (server.pids.find((p) => p.role === 'web')!.pid !== web) throw new Error('the web process was replaced during the run: its RSS series is broken');
  } finally {
    leaked = await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }

  const seconds = done.seconds;
  const tenth = samples.find((x) => x.s >= samples.at(-1)!.s / 10) ?? samples[0]!;
  const summary = (key: 'web' | 'main') => {
    const xs = samples.map((x) => x[key]).filter((v): v is number => v !== undefined);
    const round = (v: number): number => Math.round(v * 10) / 10;
    return { startMb: round(xs[0]!), afterFirstTenthMb: round(tenth[key]!), endMb: round(xs.at(-1)!), maxMb: round(Math.max(...xs)), growthLastNineTenthsMb: round(xs.at(-1)! - tenth[key]!) };
  };
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    server: spec.key,
    requests: done.requests,
    errors: done.errors,
    seconds: Math.round(seconds * 10) / 10,
    rps: Math.round(done.requests / seconds),
    conns,
    web: summary('web'),
    main: summary('main'),
    leaked,
    samples,
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `rss-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  const row = (name: string, r: ReturnType<typeof summary>): string => `| ${name} | ${r.startMb} | ${r.afterFirstTenthMb} | ${r.endMb} | ${r.maxMb} | ${r.growthLastNineTenthsMb >= 0 ? '+' : ''}${r.growthLastNineTenthsMb} |`;
  console.log(`RSS over ${result.requests.toLocaleString('en-US')} POST /echo, c=${conns}, ${result.seconds} s (${result.rps.toLocaleString('en-US')} req/s), ${result.errors} errors, ${samples.length} samples:\n`);
  console.log('| process | start MB | after 1/10 MB | end MB | max MB | growth over the last 9/10 MB |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(row('web', result.web));
  console.log(row('main (engine)', result.main));
  console.log(`\nwritten: ${file}${leaked.length ? `\nLEAKED processes: ${leaked.join(', ')}` : ''}`);
  if (leaked.length || result.errors) process.exitCode = 1;
}

await main();
