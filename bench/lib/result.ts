import type { WrkRun } from './wrk.js';
import type { BackboneResult } from './backbone.js';
import { median, round1, round3 } from './stats.js';

export interface CellSpec {
  key: string;
  route: 'echo' | 'sse';
  conns: number;
}

/** One wrk run of one server in one cell, with the CPU its processes used meanwhile. */
export interface Measured extends WrkRun {
  round: number;
  /** Cores used per process role (null: the process went away). */
  cores: Record<string, number | null>;
  machineCores: number;
}

export interface CellResult {
  key: string;
  route: 'echo' | 'sse';
  conns: number;
  results: Record<string, { rps: number; chunksPerSec?: number; p50Us: number; p99Us: number; errors: number; cores: Record<string, number>; machineCores: number; runs: object[] }>;
  vsPlain: Record<string, { ratio: number; p50DeltaUs: number }>;
  /** Against subprocess mode with nothing observed (sub-json): what observability costs. */
  vsSubprocess?: Record<string, { ratio: number; p50DeltaUs: number }>;
  vsBridge: Record<string, { ratio: number; p50DeltaUs: number }>;
}

export interface Result {
  date: string;
  machine: { nproc: number; cpu: string; node: string; clkTck: number; loadavg1BeforeRun: number };
  loadGenerator: string;
  lib: string;
  config: { quick: boolean; secondsPerCell: number; rounds: number; warmupSeconds: number; echoBodyBytes: number; sseChunksPerResponse: number; floorSeconds: number; aggregation: string };
  elapsedSeconds: number;
  servers: { key: string; label: string; program: string }[];
  cells: CellResult[];
  ipcFloor: { p50Us: number; p99Us: number; runs: { n: number; p50Us: number; p99Us: number }[] };
  coldStart?: {
    n: number;
    firstAnswerMs: Record<string, { median: number; runs: number[] }>;
    webForkToListeningMs: { median: number; runs: number[] };
    /** How many of those web processes took the bundle's V8 code cache (`accepted`), or not. */
    webCodeCache?: Record<string, number>;
    kill9ToServingMs: { median: number; runs: number[] };
    /** `node -e 0`, spawn to exit, in the same rounds: the floor any Node process pays here. */
    nodeBareMs?: { median: number; runs: number[] };
  };
  /** The demo's continuous batching at 16 streams (bench/lib/demo-tokens.ts). */
  demoTokens?: { streams: number; tokensPerStream: number; batchedTokensPerSec: number; unbatchedTokensPerSec: number; gain: number };
  targets: { target: string; value: number; met: boolean }[];
  /** The Redis backbone's figures (bench/lib/backbone.ts), when its server ran. */
  backbone?: BackboneResult;
}

/** Medians per metric over rounds; ratios pair the runs of one round (same background load), median over rounds. */
export function summariseCell(cell: CellSpec, servers: string[], runs: Map<string, Measured[]>, chunks: number): CellResult {
  const results: CellResult['results'] = {};
  for (const s of servers) {
    const rs = runs.get(s) ?? [];
    if (rs.length === 0) continue;
    const rps = median(rs.map((r) => r.rps));
    const roles = Object.keys(rs[0]!.cores);
    results[s] = {
      rps: round1(rps),
      ...(cell.route === 'sse' ? { chunksPerSec: round1(rps * chunks) } : {}),
      p50Us: median(rs.map((r) => r.p50)),
      p99Us: median(rs.map((r) => r.p99)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      cores: Object.fromEntries(roles.map((role) => [role, round3(median(rs.map((r) => r.cores[role]).filter((x): x is number => typeof x === 'number')))])),
      machineCores: round3(median(rs.map((r) => r.machineCores))),
      runs: rs.map((r) => ({ round: r.round, rps: round1(r.rps), p50Us: r.p50, p90Us: r.p90, p99Us: r.p99, maxUs: r.max, requests: r.requests, seconds: round3(r.seconds), errors: r.errors, bytesPerResponse: round1(r.bytesPerResponse), cores: r.cores, machineCores: r.machineCores })),
    };
  }
  const versus = (base: string): CellResult['vsPlain'] => {
    const b = runs.get(base);
    if (!b) return {};
    const out: CellResult['vsPlain'] = {};
    for (const s of servers) {
      const rs = runs.get(s);
      if (s === base || !rs) continue;
      const pairs = rs.map((r) => [r, b.find((x) => x.round === r.round)] as const).filter((p): p is readonly [Measured, Measured] => p[1] !== undefined);
      out[s] = { ratio: round3(median(pairs.map(([r, x]) => r.rps / x.rps))), p50DeltaUs: median(pairs.map(([r, x]) => r.p50 - x.p50)) };
    }
    return out;
  };
  return { key: cell.key, route: cell.route, conns: cell.conns, results, vsPlain: versus('plain'), vsBridge: versus('bridge'), vsSubprocess: versus('sub-json') };
}

/** The targets that this run has the figures for (subprocess mode: the default json codec). */
export function targets(r: Omit<Result, 'targets'>): Result['targets'] {
  const out: Result['targets'] = [];
  const c = (key: string) => r.cells.find((x) => x.key === key);
  const echo64 = c('echo-c64');
  const echo1 = c('echo-c1');
  const add = (target: string, value: number | undefined, met: (v: number) => boolean) => {
    if (value !== undefined && Number.isFinite(value)) out.push({ target, value, met: met(value) });
  };
  add('echo c=64: subprocess >= 1.0x plain Fastify', echo64?.vsPlain['sub-json']?.ratio, (v) => v >= 1.0);
  add('echo c=64: subprocess above the hand bridge', echo64?.vsBridge['sub-json']?.ratio, (v) => v > 1.0);
  add('echo c=64: subprocess with 2 web processes >= 1.0x plain Fastify', echo64?.vsPlain['sub-json-w2']?.ratio, (v) => v >= 1.0);
  const floor = r.ipcFloor.p50Us;
  add(`echo c=1: subprocess p50 at most the IPC floor + 20 µs (${Math.round(floor + 20)} µs) above plain Fastify`, echo1?.vsPlain['sub-json']?.p50DeltaUs, (v) => v <= floor + 20);
  for (const key of ['sse-c16', 'sse-c64']) {
    add(`SSE c=${c(key)?.conns}: subprocess >= 0.9x plain Fastify`, c(key)?.vsPlain['sub-json']?.ratio, (v) => v >= 0.9);
  }
  for (const key of ['echo-c64', 'sse-c16', 'sse-c64']) {
    add(`${key}: direct mode, forward route >= 0.9x plain Fastify`, c(key)?.vsPlain['direct-forward']?.ratio, (v) => v >= 0.9);
  }
  add('echo c=64: rate limit on (never reached) >= 0.8x off, subprocess json', roundRatio(echo64, 'sub-json-rl', 'sub-json'), (v) => v >= 0.8);
  // CPU per request (every process of the server, from /proc) is the steadier figure on a shared machine.
  const cpuPerRequest = (key: string): number | undefined => {
    const res = echo64?.results[key];
    if (!res || !(res.rps > 0)) return undefined;
    return Object.values(res.cores).reduce((a, b) => a + b, 0) / res.rps;
  };
  const cpuRatio = (key: string): number | undefined => {
    const a = cpuPerRequest(key);
    const b = cpuPerRequest('sub-json');
    return a !== undefined && b !== undefined ? round3(a / b) : undefined;
  };
  add('echo c=64: metrics on, CPU per request <= 1.05x subprocess without', cpuRatio('sub-metrics'), (v) => v <= 1.05);
  add('echo c=64: OpenTelemetry API without SDK, CPU per request <= 1.02x subprocess without', cpuRatio('sub-otel-api'), (v) => v <= 1.02);
  add('echo c=64: metrics on >= 0.95x subprocess without (costs at most 5 %)', echo64?.vsSubprocess?.['sub-metrics']?.ratio, (v) => v >= 0.95);
  add('echo c=64: OpenTelemetry API without SDK >= 0.98x subprocess without (nothing measurable)', echo64?.vsSubprocess?.['sub-otel-api']?.ratio, (v) => v >= 0.98);
  add('web process fork to listening < 150 ms (median)', r.coldStart?.webForkToListeningMs.median, (v) => v < 150);
  add('kill -9 to serving again < 250 ms with one worker (median)', r.coldStart?.kill9ToServingMs.median, (v) => v < 250);
  add('demo at 16 streams: continuous batching >= 4x tokens/s of each alone', r.demoTokens?.gain, (v) => v >= 4);
  return out;
}

/** Median over rounds of `a`'s req/s over `b`'s in the same round. */
function roundRatio(cell: CellResult | undefined, a: string, b: string): number | undefined {
  const ra = cell?.results[a]?.runs as { round: number; rps: number }[] | undefined;
  const rb = cell?.results[b]?.runs as { round: number; rps: number }[] | undefined;
  if (!ra || !rb) return undefined;
  const ratios = ra.flatMap((x) => rb.filter((y) => y.round === x.round).map((y) => x.rps / y.rps));
  return ratios.length > 0 ? round3(median(ratios)) : undefined;
}
