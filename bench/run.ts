/**
 * `npm run bench`: appinfra against the baselines a user compares it with, in one run.
 *
 *   npm run bench [-- --quick] [-- --seconds 3 --rounds 3 --warmup 1 --cold 10 --kills 5
 *                  --floor-seconds 1 --servers plain,bridge,... --no-cold --groups]
 *   (each flag also as an environment variable: BENCH_SECONDS, BENCH_ROUNDS, ...)
 *
 * `npm run bench` builds first (dist/ and this runner into dist-bench/) and runs built
 * JavaScript only: the servers are bench/servers/*.mjs started with plain `node`, and the
 * appinfra ones import dist/index.js.
 *
 * Servers (all up at once, each serving POST /echo, a ~100-byte JSON body echoed back, and
 * GET /sse, 16 small JSON chunks then the end):
 *   plain            a minimal Fastify app, one process, no appinfra;
 *   bridge           the hand bridge: a Fastify child (child_process.fork) forwarding each
 *                    request with process.send, the parent answering;
 *   direct-inline    appinfra direct mode, withRoute closures;
 *   direct-forward   appinfra direct mode, forward routes to engine handlers;
 *   sub-json, sub-msgpack, sub-v8
 *                    appinfra subprocess mode with that codec, forward routes;
 *   sub-json-w2      sub-json with two web processes sharing the port (uvicorn.workers 2);
 *   sub-json-rl      sub-json with a rate limit nobody reaches (echo c=64 only): what the
 *                    limiter costs, its buckets kept in the main process.
 * Cells: echo at 1 connection (req/s, p50, p99), echo at 64 (req/s), SSE at 16 and 64
 * (chunks/s = responses/s x 16; each server's SSE answer is checked to hold 16 events, and
 * its echo to return the body, before anything is measured).
 *
 * Load: wrk -t1, keep-alive, 127.0.0.1 only, a Lua script for the POST body and exact
 * percentiles. Interleaved: each round runs every cell against every server back to back,
 * the servers' order rotating by round; figures are medians over rounds, ratios the median
 * over rounds of each round's ratio (two runs of one round share the background load).
 * During each run the CPU time (utime + stime from /proc/<pid>/stat) of every process of
 * the server under test is read before and after: cores used = cpu-seconds / wall seconds,
 * so the bottleneck process shows.
 *
 * Also, in the same run: the IPC floor (bench/servers/floor.mjs, once per round), cold
 * start from spawn to the first answered request (plain Fastify, hand bridge, appinfra
 * subprocess; interleaved, median of --cold), appinfra's web process fork-to-listening
 * (its `started` event) and, with one worker and restart delay 0, kill -9 of the web
 * process to serving again.
 *
 * Output: markdown tables on stdout (ratios vs plain Fastify and vs the hand bridge, CPU
 * per process, the issue's targets), bench/results/latest.json (kept in the repository:
 * what the README quotes; not written by --quick) and bench/results/<timestamp>.json
 * (git-ignored). --quick: 1 round of 1 s per cell, 3 cold starts, 3 kills.
 *
 * Last, the demo's cell (--demo-tokens N tokens per stream, --no-demo to skip): tokens/s at
 * 16 concurrent streams with continuous batching vs each completion alone (bench/lib/demo-tokens.ts).
 * --groups: also the process-group section (bench/lib/groups.ts): tcp_local (signed) against
 * pipe for echo at 1 and 64 connections, and a CPU-bound handler with 1 vs 2 group processes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { coldStarts, kill9 } from './lib/coldstart.js';
import { demoTokens, type DemoTokens } from './lib/demo-tokens.js';
import { clockTicks, coresUsed, sample } from './lib/cpu.js';
import { markdown } from './lib/report.js';
import { summariseCell, targets, type CellSpec, type Measured, type Result } from './lib/result.js';
import { SPECS, startServer, stopServer, verify, type Running } from './lib/servers.js';
import { median, round1, round3 } from './lib/stats.js';
import { writeScripts, wrk, wrkVersion } from './lib/wrk.js';
import { groupsBench, groupsMarkdown, type GroupsResult } from './lib/groups.js';
import { backboneMarkdown, redisVsPipe, requestReply, startRedis, type BackboneResult, type BenchRedis } from './lib/backbone.js';

const CHUNKS = 16;
/** The echo body: ~100 bytes of JSON. */
const BODY = JSON.stringify({ user: 'bench', text: 'the quick brown fox jumps over the lazy dog', n: 42, tags: ['a', 'b', 'c'], ok: true });
const CELLS: CellSpec[] = [
  { key: 'echo-c1', route: 'echo', conns: 1 },
  { key: 'echo-c64', route: 'echo', conns: 64 },
  { key: 'sse-c16', route: 'sse', conns: 16 },
  { key: 'sse-c64', route: 'sse', conns: 64 },
];
const FLOOR = fileURLToPath(new URL('../bench/servers/floor.mjs', import.meta.url));
const RESULTS = fileURLToPath(new URL('../bench/results/', import.meta.url));
const USAGE = 'usage: npm run bench [-- --quick] [-- --seconds 3 --rounds 3 --warmup 1 --cold 10 --kills 5 --floor-seconds 1 --servers plain,bridge,... --no-cold --demo-tokens 128 --no-demo --groups]';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
/** --name value, else BENCH_NAME, else the quick or the full default. */
function option(name: string, full: string, fast: string): string {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1]!;
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? (quick ? fast : full);
}
function count(name: string, full: string, fast: string, min: number): number {
  const n = Number(option(name, full, fast));
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: an integer >= ${min}\n${USAGE}`);
  return n;
}

const seconds = count('seconds', '3', '1', 1); // wrk takes whole seconds
const rounds = count('rounds', '3', '1', 1);
const warmup = count('warmup', '1', '1', 0);
const demoN = argv.includes('--no-demo') ? 0 : count('demo-tokens', '128', '32', 1);
const coldN = argv.includes('--no-cold') ? 0 : count('cold', '10', '3', 0);
const kills = coldN === 0 ? 0 : count('kills', '5', '3', 0);
const floorSeconds = Number(option('floor-seconds', '1', '0.3'));
const wanted = option('servers', SPECS.map((s) => s.key).join(','), SPECS.map((s) => s.key).join(',')).split(',');
const unknown = wanted.filter((k) => !SPECS.some((s) => s.key === k));
if (unknown.length > 0 || !(floorSeconds > 0)) throw new Error(`unknown server(s) ${unknown.join(', ')} or bad --floor-seconds; servers: ${SPECS.map((s) => s.key).join(', ')}\n${USAGE}`);
const specs = SPECS.filter((s) => wanted.includes(s.key));
const withGroups = argv.includes('--groups') || process.env.BENCH_GROUPS === '1';
const env: Record<string, string> = { BENCH_SSE_CHUNKS: String(CHUNKS) };
/** The Redis backbone's server and its request/reply comparison run when its HTTP server is among those wanted. */
const withRedis = specs.some((s) => s.key === 'redis-json');
const log = (s: string): boolean => process.stderr.write(s);

async function ipcFloor(): Promise<{ n: number; p50Us: number; p99Us: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [FLOOR, String(floorSeconds)], { timeout: (floorSeconds + 20) * 1000, killSignal: 'SIGKILL' });
  const line = /BENCH_FLOOR (\{.*\})/.exec(stdout);
  if (!line) throw new Error(`floor.mjs printed no result:\n${stdout}`);
  return JSON.parse(line[1]!) as { n: number; p50Us: number; p99Us: number };
}

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = loadavg()[0]!;
  const ticks = clockTicks();
  const ncpu = cpus().length;
  const dir = mkdtempSync(join(tmpdir(), 'appinfra-bench-'));
  const lua = writeScripts(dir, BODY);
  const running: Running[] = [];
  const leaked: number[] = [];
  const onSignal = (): void => {
    for (const r of running) r.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const runs = new Map<string, Map<string, Measured[]>>(CELLS.map((c) => [c.key, new Map()]));
  const floors: { n: number; p50Us: number; p99Us: number }[] = [];
  let cold: Result['coldStart'];
  let groups: GroupsResult | undefined;
  let redis: BenchRedis | undefined;
  let rr: BackboneResult['requestReply'] | undefined;
  try {
    if (withRedis) {
      redis = await startRedis();
      env.BENCH_REDIS_URL = redis.url;
    }
    log(`bench: ${specs.length} servers x ${CELLS.length} cells x ${rounds} round(s) x ${seconds} s, about ${Math.ceil((specs.length * CELLS.length * rounds * (seconds + 0.2) + specs.length * 2 * warmup) / 60)} min of load${coldN ? `, then cold start x ${coldN}` : ''}\n`);
    for (const spec of specs) running.push(await startServer(spec, env));
    for (const r of running) await verify(r, BODY, CHUNKS);
    if (warmup > 0) {
      for (const r of running) {
        await wrk(`${r.url}/echo`, lua.post, 16, warmup);
        await wrk(`${r.url}/sse`, lua.get, 16, warmup);
      }
    }
    for (let round = 0; round < rounds; round++) {
      const floor = await ipcFloor();
      floors.push(floor);
      log(`round ${round + 1}: IPC floor p50 ${floor.p50Us} µs, p99 ${floor.p99Us} µs\n`);
      for (const cell of CELLS) {
        const order = running.map((_, i) => running[(i + round) % running.length]!);
        for (const r of order) {
          if (r.spec.cells && !r.spec.cells.includes(cell.key)) continue;
          const before = sample(r.pids.map((p) => p.pid));
          const w = await wrk(cell.route === 'echo' ? `${r.url}/echo` : `${r.url}/sse`, cell.route === 'echo' ? lua.post : lua.get, cell.conns, seconds);
          const after = sample(r.pids.map((p) => p.pid));
          const used = coresUsed(before, after, ticks, ncpu);
          const cores = Object.fromEntries(r.pids.map((p) => [p.role, used.perPid.get(p.pid) ?? null]));
          const m: Measured = { ...w, round, cores, machineCores: used.machine };
          const byServer = runs.get(cell.key)!;
          byServer.set(r.spec.key, [...(byServer.get(r.spec.key) ?? []), m]);
          const rate = cell.route === 'echo' ? `${w.rps.toFixed(0)} req/s` : `${(w.rps * CHUNKS).toFixed(0)} chunks/s`;
          const cpu = Object.entries(cores).map(([k, v]) => `${k} ${v ?? '?'}`).join(' ');
          log(`  ${cell.key.padEnd(9)} ${r.spec.key.padEnd(15)} ${rate.padStart(16)}  p50 ${w.p50} µs  p99 ${w.p99} µs  cores: ${cpu}, all ${used.machine}${w.errors ? `  ${w.errors} ERRORS` : ''}\n`);
        }
      }
    }
    if (withGroups) {
      log('process groups and tcp_local:\n');
      const g = await groupsBench({ seconds, rounds, post: lua.post, body: BODY, chunks: CHUNKS, env, log });
      groups = g.result;
      leaked.push(...g.leaked);
    }
    if (redis) rr = await requestReply(redis.url, BODY, [1, 64], seconds, rounds, log);
  } finally {
    for (const r of running) leaked.push(...(await stopServer(r)));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    if (coldN > 0) {
      const coldSpecs = SPECS.filter((s) => ['plain', 'bridge', 'sub-json'].includes(s.key));
      log(`cold start: ${coldSpecs.map((s) => s.key).join(', ')}, ${coldN} each\n`);
      const cs = await coldStarts(coldSpecs, coldN, BODY, env, log);
      leaked.push(...cs.leaked);
      const sub = SPECS.find((s) => s.key === 'sub-json')!;
      const k = kills > 0 ? await kill9({ ...sub, args: [...sub.args, '--restart-now'] }, kills, BODY, env) : { ms: [], leaked: [] };
      leaked.push(...k.leaked);
      log(`web process fork to listening: ${cs.webForkToListeningMs.map((x) => x.toFixed(0)).join(', ')} ms; code cache ${JSON.stringify(cs.webCodeCache)}\n`);
      log(`kill -9 to serving again: ${k.ms.map((x) => x.toFixed(0)).join(', ')} ms\n`);
      log(`node -e 0, spawn to exit: ${cs.nodeBareMs.map((x) => x.toFixed(0)).join(', ')} ms\n`);
      const pack = (xs: number[]) => ({ median: round1(median(xs)), runs: xs.map(round1) });
      cold = {
        n: coldN,
        firstAnswerMs: Object.fromEntries(Object.entries(cs.firstAnswerMs).map(([key, xs]) => [key, pack(xs)])),
        webForkToListeningMs: pack(cs.webForkToListeningMs),
        webCodeCache: cs.webCodeCache,
        kill9ToServingMs: pack(k.ms),
        nodeBareMs: pack(cs.nodeBareMs),
      };
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // The demo's continuous batching: tokens/s at 16 concurrent streams, batched vs each alone.
  let demo: DemoTokens | undefined;
  if (demoN > 0) {
    log(`demo: 16 streams x ${demoN} tokens, continuous batching vs each alone\n`);
    demo = await demoTokens(16, demoN);
    log(`  batched ${demo.batchedTokensPerSec} tokens/s, alone ${demo.unbatchedTokensPerSec} tokens/s: ${demo.gain}x\n`);
  }
  if (leaked.length > 0) throw new Error(`processes left running after the bench (killed now): ${leaked.join(', ')}`);

  const wrkVer = await wrkVersion();
  const base: Omit<Result, 'targets'> = {
    date: new Date().toISOString(),
    machine: { nproc: ncpu, cpu: cpus()[0]?.model ?? '?', node: process.version, clkTck: ticks, loadavg1BeforeRun: round3(load0) },
    loadGenerator: `${wrkVer} (-t1, keep-alive)`,
    lib: 'dist (built JavaScript, npm run build); servers run with plain node',
    config: {
      quick,
      secondsPerCell: seconds,
      rounds,
      warmupSeconds: warmup,
      echoBodyBytes: Buffer.byteLength(BODY),
      sseChunksPerResponse: CHUNKS,
      floorSeconds,
      aggregation: 'per server: median per metric over rounds; vsPlain/vsBridge: median over rounds of the same round\'s ratio (p50: difference)',
    },
    elapsedSeconds: round1((Date.now() - started) / 1000),
    servers: specs.map((s) => ({ key: s.key, label: s.label, program: ['bench/servers/' + s.file, ...s.args].join(' ') })),
    cells: CELLS.map((c) => summariseCell(c, specs.map((s) => s.key), runs.get(c.key)!, CHUNKS)),
    ipcFloor: { p50Us: median(floors.map((f) => f.p50Us)), p99Us: median(floors.map((f) => f.p99Us)), runs: floors },
    ...(cold ? { coldStart: cold } : {}),
    ...(demo ? { demoTokens: demo } : {}),
  };
  const result: Result & { groups?: GroupsResult } = { ...base, targets: targets(base), ...(groups ? { groups } : {}) };
  if (rr) result.backbone = { redis: 'redis-server, no persistence, 127.0.0.1', requestReply: rr, redisVsPipe: redisVsPipe(result.cells) };

  console.log(`\n${markdown(result)}`);
  if (demo) {
    console.log(`\nDemo /v1/completions, 16 concurrent SSE streams of ${demo.tokensPerStream} tokens:\n`);
    console.log('| continuous batching | each alone | gain |\n|---|---|---|');
    console.log(`| ${demo.batchedTokensPerSec} tokens/s | ${demo.unbatchedTokensPerSec} tokens/s | ${demo.gain}x |`);
  }
  if (groups) console.log(`\n${groupsMarkdown(groups)}`);
  if (result.backbone) console.log(`\n${backboneMarkdown(result.backbone)}`);
  mkdirSync(RESULTS, { recursive: true });
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const stamp = result.date.replace(/[:.]/g, '-');
  writeFileSync(join(RESULTS, `${stamp}.json`), text);
  // A --quick run proves the harness works; its figures are not the ones to quote.
  if (!quick) writeFileSync(join(RESULTS, 'latest.json'), text);
  console.log(`written: ${quick ? '' : 'bench/results/latest.json and '}bench/results/${stamp}.json`);
}

await main();
