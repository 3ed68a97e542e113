/**
 * `npm run bench -- --groups`: the costs and gains of issue 9, ratios measured in one run.
 *   signing  subprocess echo over tcp_local (every frame HMAC-signed and checked, both ways)
 *            against the default pipe, at 1 and 64 connections: tcp_local / pipe req/s.
 *   groups   a CPU-bound handler (bench/servers/cpu.mjs) in a group of 2 processes against
 *            a group of 1, at 8 connections: 2 / 1 req/s (2 cores: 2.0 is the ceiling).
 * Each round runs both sides of a comparison back to back; figures are medians over rounds.
 */
import { fetchOnce } from './http.js';
import { startServer, stopServer, verify, type Running, type ServerSpec } from './servers.js';
import { median, round1, round3 } from './stats.js';
import { wrk } from './wrk.js';

const PIPE: ServerSpec = { key: 'sub-pipe', label: 'subprocess (pipe)', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'json'] };
const TCP: ServerSpec = { key: 'sub-tcp', label: 'subprocess (tcp_local, signed)', file: 'appinfra.mjs', args: ['--mode', 'subprocess', '--codec', 'json', '--transport', 'tcp_local'] };
const G1: ServerSpec = { key: 'group-1', label: 'group of 1 process', file: 'groups.mjs', args: ['--processes', '1'] };
const G2: ServerSpec = { key: 'group-2', label: 'group of 2 processes', file: 'groups.mjs', args: ['--processes', '2'] };

export interface GroupsResult {
  signing: { conns: number; pipeRps: number; tcpRps: number; ratio: number; ratios: number[] }[];
  groups: { conns: number; oneRps: number; twoRps: number; ratio: number; ratios: number[]; burnRounds: number };
}

export interface GroupsBenchOptions {
  seconds: number;
  rounds: number;
  post: string;
  body: string;
  chunks: number;
  env: Record<string, string>;
  log: (s: string) => void;
}

export async function groupsBench(o: GroupsBenchOptions): Promise<{ result: GroupsResult; leaked: number[] }> {
  const running: Running[] = [];
  const leaked: number[] = [];
  const burnRounds = Number(o.env.BENCH_BURN_ROUNDS ?? process.env.BENCH_BURN_ROUNDS ?? 20000);
  try {
    for (const spec of [PIPE, TCP, G1, G2]) running.push(await startServer(spec, { ...o.env, BENCH_BURN_ROUNDS: String(burnRounds) }));
    const [pipe, tcp, one, two] = running as [Running, Running, Running, Running];
    await verify(pipe, o.body, o.chunks);
    await verify(tcp, o.body, o.chunks);
    for (const g of [one, two]) {
      const r = await fetchOnce(`${g.url}/burn`, 'POST', o.body);
      if (r.status !== 200) throw new Error(`${g.spec.key}: POST /burn answered ${r.status} ${r.text.slice(0, 200)}`);
    }
    const signing: GroupsResult['signing'] = [];
    for (const conns of [1, 64]) {
      const p: number[] = [];
      const t: number[] = [];
      for (let round = 0; round < o.rounds; round++) {
        // Alternate which goes first: a drift in background load favours neither.
        const order = round % 2 === 0 ? [pipe, tcp] : [tcp, pipe];
        const rps = new Map<Running, number>();
        for (const r of order) rps.set(r, (await wrk(`${r.url}/echo`, o.post, conns, o.seconds)).rps);
        p.push(rps.get(pipe)!);
        t.push(rps.get(tcp)!);
        o.log(`  echo-c${conns}  pipe ${rps.get(pipe)!.toFixed(0)} req/s  tcp_local ${rps.get(tcp)!.toFixed(0)} req/s  ratio ${(rps.get(tcp)! / rps.get(pipe)!).toFixed(3)}\n`);
      }
      const ratios = p.map((x, i) => t[i]! / x);
      signing.push({ conns, pipeRps: round1(median(p)), tcpRps: round1(median(t)), ratio: round3(median(ratios)), ratios: ratios.map(round3) });
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? [one, two] : [two, one];
      const rps = new Map<Running, number>();
      for (const r of order) rps.set(r, (await wrk(`${r.url}/burn`, o.post, 8, o.seconds)).rps);
      a.push(rps.get(one)!);
      b.push(rps.get(two)!);
      o.log(`  burn-c8   1 process ${rps.get(one)!.toFixed(1)} req/s  2 processes ${rps.get(two)!.toFixed(1)} req/s  ratio ${(rps.get(two)! / rps.get(one)!).toFixed(2)}\n`);
    }
    const ratios = b.map((x, i) => x / a[i]!);
    return {
      result: { signing, groups: { conns: 8, oneRps: round1(median(a)), twoRps: round1(median(b)), ratio: round3(median(ratios)), ratios: ratios.map(round3), burnRounds } },
      leaked,
    };
  } finally {
    for (const r of running) leaked.push(...(await stopServer(r)));
  }
}

/** The markdown section of the report. */
export function groupsMarkdown(r: GroupsResult): string {
  const lines = ['### Process groups and tcp_local (issue 9)', '', '| comparison | baseline | measured | ratio | target |', '|---|---|---|---|---|'];
  for (const s of r.signing) lines.push(`| echo c${s.conns}: tcp_local (signed) / pipe | ${s.pipeRps} req/s | ${s.tcpRps} req/s | ${s.ratio} | ${s.conns === 64 ? '>= 0.90' : '-'} |`);
  const g = r.groups;
  lines.push(`| burn c${g.conns} (sha256 x ${g.burnRounds}): 2 / 1 group processes | ${g.oneRps} req/s | ${g.twoRps} req/s | ${g.ratio} | >= 1.8 |`);
  return lines.join('\n');
}
