/**
 * `npm run bench`: direct mode vs subprocess mode, side by side in one run.
 *
 *   npm run bench [-- --seconds 3 --rounds 3 --warmup 1 --conns 1,16,64 --routes echo,stream]
 *
 * Two routes, the same builder config in both modes (subprocess mode only adds
 * `.subprocess.withIpc(...)`):
 *   - echo:   POST /echo, a ~100-byte JSON body; the engine handler returns the body.
 *   - stream: GET /stream (forward route, `reply: 'sse'`); the engine handler is an async
 *             generator yielding 16 small chunks. Each response is read to its end, so
 *             chunks/s = responses/s x 16 (checked once per server before measuring: the
 *             response carries exactly 16 `data:` events).
 * Forward routes work in direct mode as well (the engine is reached over an in-process
 * link), so no equivalent inline route is needed.
 *
 * Load: wrk (Debian's, /usr/bin/wrk or $WRK), one thread, keep-alive, at each connection
 * count, against 127.0.0.1 only. A Lua script sets the POST body and reports the exact
 * latency percentiles (wrk's `done` hook, microseconds). Each server runs in its own
 * process (this file, re-run with `--serve <mode>`), so this process does nothing while
 * wrk measures; in subprocess mode that host is the engine process and the web process
 * is its child. Both servers are up the whole time and cells are interleaved: every round
 * runs each cell in direct and in subprocess mode back to back, alternating which goes
 * first. Figures per mode are the median over rounds (per metric); the subprocess/direct
 * ratio and the p50 difference are the median over rounds of each round's pair, which
 * share the machine's background load. One warm-up of `--warmup` seconds per server and
 * route comes first and is not counted.
 *
 * The servers run the TypeScript sources under tsx (the loader `npm run bench` starts
 * with; the web process inherits it), so the figures are those of the current sources
 * with no build step. Built JavaScript (`npm run build`, dist/) was measured against it
 * on the same 2-core machine, same cells interleaved: the difference stayed inside the
 * run-to-run noise (about +-15% there). tsx compiles each module once at load; what is
 * left at run time is esbuild's keepNames helper on closures, 2-4% of the web process's
 * CPU in profiles, in both modes. BENCH_LIB=dist runs the servers from dist/index.js
 * instead (run `npm run build` first).
 *
 * Output: a table on stdout, and the same figures as JSON in bench/results/latest.json
 * (kept in the repository: the last run) and bench/results/<timestamp>.json (ignored by
 * bench/results/.gitignore). Targets checked (from the issue, for a 2-core machine):
 * subprocess/direct echo req/s >= 1.0 at 64 connections; echo p50 at 1 connection at
 * most 30 us above direct; SSE chunks/s >= 0.9 x direct.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

type Mode = 'direct' | 'subprocess';
type RouteName = 'echo' | 'stream';
const MODES: Mode[] = ['direct', 'subprocess'];
const CHUNKS = 16;
/** The echo body: ~100 bytes of JSON. */
const BODY = JSON.stringify({ user: 'bench', text: 'the quick brown fox jumps over the lazy dog', n: 42, tags: ['a', 'b', 'c'], ok: true });

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------
// Server host (a child of the runner): one server, stopped when the runner says so or goes.

async function serve(mode: Mode): Promise<void> {
  const lib: typeof import('../src/index.js') = process.env.BENCH_LIB === 'dist' ? await import(new URL('../dist/index.js', import.meta.url).href) : await import('../src/index.js');
  let builder = new lib.ServerBuilder(`bench-${mode}`)
    .withHost('127.0.0.1')
    .withPort(0)
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/stream', { handler: 'stream', reply: 'sse' })
    .done();
  if (mode === 'subprocess') builder = builder.subprocess.withIpc(new lib.Queue(), new lib.Queue()).done();
  const server = builder.build();
  server.engine.handle('echo', (req: { body: unknown }) => req.body);
  server.engine.handle('stream', async function* () {
    for (let i = 0; i < CHUNKS; i++) yield { seq: i, text: 'chunk' };
  });
  const { url } = await server.listen();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= server.stop(2).finally(() => process.exit(0)));
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stop') void stop();
  });
  // The runner is gone (crash, Ctrl-C): stop too, so nothing is left behind.
  process.on('disconnect', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.send!({ type: 'ready', url, webPid: mode === 'subprocess' ? server.pid : undefined });
}

// ---------------------------------------------------------------------------------------
// Runner.

interface Host {
  mode: Mode;
  child: ChildProcess;
  url: string;
  webPid: number | undefined;
  exited: Promise<void>;
}

interface Run {
  requests: number;
  seconds: number;
  rps: number;
  /** Microseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  bytesPerResponse: number;
}

interface Cell {
  route: RouteName;
  conns: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function startHost(mode: Mode): Promise<Host> {
  // Same loader as this process (tsx): the host, and in subprocess mode its web process, run the same code.
  const child = fork(SELF, ['--serve', mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${mode} server did not start within 30 s`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode} server exited during start-up (code ${code})`));
    });
    child.once('message', (m: { type: string; url: string; webPid?: number }) => {
      clearTimeout(timer);
      resolve({ mode, child, url: m.url, webPid: m.webPid, exited });
    });
  });
}

async function stopHost(h: Host): Promise<void> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  if (h.child.connected) h.child.send({ type: 'stop' });
  const timer = setTimeout(() => h.child.kill('SIGKILL'), 10_000);
  await h.exited;
  clearTimeout(timer);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One request with its own connection: status, headers and body as text. */
function fetchOnce(url: string, method: string, body?: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.end(body);
  });
}

/** Both routes answer as the benchmark assumes: echo returns the body, the stream has exactly 16 events. */
async function verify(h: Host): Promise<void> {
  const echo = await fetchOnce(`${h.url}/echo`, 'POST', BODY);
  if (echo.status !== 200 || JSON.stringify(JSON.parse(echo.text)) !== BODY) {
    throw new Error(`${h.mode}: POST /echo answered ${echo.status} ${echo.text.slice(0, 200)}`);
  }
  const sse = await fetchOnce(`${h.url}/stream`, 'GET');
  const events = sse.text.split('\n\n').filter((e) => e.startsWith('data: '));
  if (sse.status !== 200 || !sse.type.startsWith('text/event-stream') || events.length !== CHUNKS) {
    throw new Error(`${h.mode}: GET /stream answered ${sse.status} (${sse.type}) with ${events.length} events, expected ${CHUNKS}: ${sse.text.slice(0, 200)}`);
  }
}

const run = promisify(execFile);
const WRK = process.env.WRK ?? '/usr/bin/wrk';

/** wrk's `done` hook prints one line of JSON with exact figures (latency in microseconds). */
const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_JSON {\\"requests\\":%d,\\"duration\\":%d,\\"bytes\\":%d,\\"p50\\":%d,\\"p90\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"errors\\":%d}\\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function wrk(url: string, script: string, conns: number, seconds: number): Promise<Run> {
  const args = ['-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '-s', script, url];
  // Hard bound: wrk's own duration plus slack; a stuck wrk is killed, never left behind.
  const { stdout } = await run(WRK, args, { timeout: (seconds + 15) * 1000, killSignal: 'SIGKILL' });
  const line = /BENCH_JSON (\{.*\})/.exec(stdout);
  if (!line) throw new Error(`wrk printed no report:\n${stdout}`);
  const r = JSON.parse(line[1]!) as { requests: number; duration: number; bytes: number; p50: number; p90: number; p99: number; max: number; errors: number };
  const secs = r.duration / 1e6;
  return {
    requests: r.requests,
    seconds: secs,
    rps: r.requests / secs,
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    max: r.max,
    errors: r.errors,
    bytesPerResponse: r.requests > 0 ? r.bytes / r.requests : 0,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function wrkVersion(): Promise<string> {
  // wrk -v prints its version and exits non-zero.
  try {
    const { stdout } = await run(WRK, ['-v']);
    return stdout.split('\n')[0]!.trim();
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? '').split('\n')[0]!.trim();
  }
}

async function main(): Promise<void> {
  const seconds = Number(option('seconds', '3'));
  const rounds = Number(option('rounds', '3'));
  const warmup = Number(option('warmup', '1'));
  const conns = option('conns', '1,16,64').split(',').map(Number);
  // wrk takes whole seconds.
  if (![seconds, rounds, warmup, ...conns].every(Number.isInteger) || !(seconds >= 1 && rounds >= 1 && warmup >= 0 && conns.every((c) => c > 0))) {
    throw new Error('usage: npm run bench [-- --seconds 3 --rounds 3 --warmup 1 --conns 1,16,64 --routes echo,stream]');
  }
  const routes = option('routes', 'echo,stream').split(',') as RouteName[];
  if (!routes.every((r) => r === 'echo' || r === 'stream')) throw new Error('--routes: a list of echo, stream');
  const cells: Cell[] = routes.flatMap((route) => conns.map((c) => ({ route, conns: c })));

  const dir = mkdtempSync(join(tmpdir(), 'appinfra-bench-'));
  const scripts: Record<RouteName, string> = { echo: join(dir, 'echo.lua'), stream: join(dir, 'stream.lua') };
  writeFileSync(scripts.echo, `wrk.method = "POST"\nwrk.body = ${luaString(BODY)}\nwrk.headers["Content-Type"] = "application/json"\n${REPORT}`);
  writeFileSync(scripts.stream, `wrk.method = "GET"\n${REPORT}`);
  const path: Record<RouteName, string> = { echo: '/echo', stream: '/stream' };

  const hosts: Host[] = [];
  const onSignal = (): void => {
    for (const h of hosts) h.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const runs = new Map<string, Run[]>();
  const key = (mode: Mode, cell: Cell): string => `${mode} ${cell.route} ${cell.conns}`;
  const started = Date.now();
  const load0 = loadavg()[0]!;
  try {
    for (const mode of MODES) hosts.push(await startHost(mode));
    const byMode = Object.fromEntries(hosts.map((h) => [h.mode, h])) as Record<Mode, Host>;
    for (const h of hosts) await verify(h);
    const total = cells.length * MODES.length * (rounds * seconds) + MODES.length * 2 * warmup;
    process.stderr.write(`bench: ${cells.length} cells x ${MODES.length} modes x ${rounds} rounds x ${seconds} s (+ warm-up), about ${Math.ceil(total)} s\n`);
    if (warmup > 0) {
      for (const mode of MODES) for (const route of routes) await wrk(byMode[mode].url + path[route], scripts[route], 16, warmup);
    }
    for (let round = 0; round < rounds; round++) {
      for (const cell of cells) {
        const order = round % 2 === 0 ? MODES : [...MODES].reverse();
        for (const mode of order) {
          const r = await wrk(byMode[mode].url + path[cell.route], scripts[cell.route], cell.conns, seconds);
          const k = key(mode, cell);
          runs.set(k, [...(runs.get(k) ?? []), r]);
          process.stderr.write(`  round ${round + 1} ${k.padEnd(22)} ${r.rps.toFixed(0).padStart(7)} resp/s  p50 ${r.p50} us  p99 ${r.p99} us${r.errors ? `  ${r.errors} errors` : ''}\n`);
        }
      }
    }
  } finally {
    await Promise.all(hosts.map(stopHost));
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const leaked = hosts.flatMap((h) => [h.child.pid, h.webPid]).filter((p): p is number => p !== undefined && isAlive(p));
  if (leaked.length > 0) throw new Error(`processes left running after the bench: ${leaked.join(', ')}`);

  // Medians per metric over the rounds.
  const summary = (mode: Mode, cell: Cell) => {
    const rs = runs.get(key(mode, cell))!;
    const rps = median(rs.map((r) => r.rps));
    return {
      rps: round1(rps),
      chunksPerSec: cell.route === 'stream' ? round1(rps * CHUNKS) : undefined,
      p50Us: median(rs.map((r) => r.p50)),
      p99Us: median(rs.map((r) => r.p99)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      bytesPerResponse: round1(median(rs.map((r) => r.bytesPerResponse))),
      runs: rs.map((r) => ({ rps: round1(r.rps), p50Us: r.p50, p90Us: r.p90, p99Us: r.p99, maxUs: r.max, requests: r.requests, seconds: round3(r.seconds), errors: r.errors })),
    };
  };
  // Ratios and deltas pair the two runs of a round (back to back, under the same
  // background load) and take the median over rounds: steadier on a noisy machine than
  // the ratio of the two medians, which is kept as well.
  const table = cells.map((cell) => {
    const direct = summary('direct', cell);
    const subprocess = summary('subprocess', cell);
    const d = runs.get(key('direct', cell))!;
    const sp = runs.get(key('subprocess', cell))!;
    return {
      route: cell.route,
      conns: cell.conns,
      direct,
      subprocess,
      ratio: round3(median(d.map((r, i) => sp[i]!.rps / r.rps))),
      p50DeltaUs: median(d.map((r, i) => sp[i]!.p50 - r.p50)),
      ratioOfMedians: round3(subprocess.rps / direct.rps),
      p50DeltaOfMediansUs: subprocess.p50Us - direct.p50Us,
      p99Ratio: round3(subprocess.p99Us / direct.p99Us),
    };
  });
  const find = (route: RouteName, c: number) => table.find((t) => t.route === route && t.conns === c);
  const maxConns = Math.max(...conns);
  const minConns = Math.min(...conns);
  const streams = table.filter((t) => t.route === 'stream');
  const echoMax = find('echo', maxConns);
  const echoMin = find('echo', minConns);
  const targets = [
    ...(echoMax ? [{ target: `echo req/s subprocess/direct >= 1.0 at ${maxConns} connections`, value: echoMax.ratio, met: echoMax.ratio >= 1.0 }] : []),
    ...(echoMin ? [{ target: `echo p50 at ${minConns} connection(s) <= direct + 30 us`, value: echoMin.p50DeltaUs, met: echoMin.p50DeltaUs <= 30 }] : []),
    ...streams.map((t) => ({ target: `SSE chunks/s subprocess/direct >= 0.9 at ${t.conns} connections`, value: t.ratio, met: t.ratio >= 0.9 })),
  ];

  const wrkVer = await wrkVersion();
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version, loadavg1BeforeRun: round3(load0) },
    loadGenerator: `${wrkVer} (-t1, keep-alive)`,
    lib: process.env.BENCH_LIB === 'dist' ? 'dist (built JavaScript)' : 'src under tsx',
    config: {
      secondsPerRun: seconds,
      rounds,
      warmupSeconds: warmup,
      connections: conns,
      echoBodyBytes: Buffer.byteLength(BODY),
      sseChunksPerResponse: CHUNKS,
      aggregation: 'per mode: median per metric over rounds; ratio and p50 delta: median over rounds of the paired (same round) values',
    },
    elapsedSeconds: round1((Date.now() - started) / 1000),
    cells: table,
    targets,
  };

  printTable(result.machine, wrkVer, seconds, rounds, table, targets);
  const outDir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(outDir, `${result.date.replace(/[:.]/g, '-')}.json`), text);
  writeFileSync(join(outDir, 'latest.json'), text);
  console.log(`\nwritten: bench/results/latest.json and bench/results/${result.date.replace(/[:.]/g, '-')}.json`);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function printTable(
  machine: { cpus: number; node: string },
  wrkVer: string,
  seconds: number,
  rounds: number,
  table: { route: RouteName; conns: number; direct: { rps: number; chunksPerSec?: number | undefined; p50Us: number; p99Us: number; errors: number }; subprocess: { rps: number; chunksPerSec?: number | undefined; p50Us: number; p99Us: number; errors: number }; ratio: number; p50DeltaUs: number }[],
  targets: { target: string; value: number; met: boolean }[],
): void {
  console.log(`\nappinfra bench: ${machine.cpus} CPUs, node ${machine.node}, ${wrkVer.split(' ').slice(0, 2).join(' ')} -t1, 127.0.0.1, ${seconds} s x ${rounds} rounds per cell`);
  console.log('figures: median over rounds; sub/direct and p50 +us: median of the per-round (back-to-back) pairs');
  console.log('echo: POST /echo, ~100-byte JSON; SSE: GET /stream, 16 chunks per response (chunks/s = responses/s x 16)\n');
  const head = ['route', 'conns', 'direct', 'p50 us', 'p99 us', 'subprocess', 'p50 us', 'p99 us', 'sub/direct', 'p50 +us'];
  const w = [8, 6, 12, 8, 8, 12, 8, 8, 11, 8];
  const fmt = (cols: string[]): string => cols.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' ');
  console.log(fmt(head));
  for (const t of table) {
    const unit = t.route === 'echo' ? ' req/s' : ' ch/s';
    const d = t.route === 'echo' ? t.direct.rps : t.direct.chunksPerSec!;
    const s = t.route === 'echo' ? t.subprocess.rps : t.subprocess.chunksPerSec!;
    console.log(
      fmt([t.route === 'echo' ? 'echo' : 'SSE x16', String(t.conns), d.toFixed(0), String(t.direct.p50Us), String(t.direct.p99Us), s.toFixed(0), String(t.subprocess.p50Us), String(t.subprocess.p99Us), `${t.ratio.toFixed(2)}x`, (t.p50DeltaUs >= 0 ? '+' : '') + t.p50DeltaUs]) +
        unit +
        (t.direct.errors + t.subprocess.errors ? `  (errors: direct ${t.direct.errors}, subprocess ${t.subprocess.errors})` : ''),
    );
  }
  console.log('\ntargets (2-core machine):');
  for (const t of targets) console.log(`  ${t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.value}`);
}

// Last, so every constant above is initialised before either side runs.
if (process.argv[2] === '--serve') await serve(process.argv[3] as Mode);
else await main();
