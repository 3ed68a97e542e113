import type { Result } from './result.js';

const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const us = (x: number): string => (Number.isFinite(x) ? `${int(x)} µs` : '-');
const ms = (x: number): string => (Number.isFinite(x) ? `${int(x)} ms` : '-');
const times = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);
const plus = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${x >= 0 ? '+' : ''}${int(x)} µs`);

function table(head: string[], rows: string[][]): string {
  const line = (cols: string[]): string => `| ${cols.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** The run as markdown, ready to paste into the README. */
export function markdown(r: Result): string {
  const servers = r.servers;
  const out: string[] = [];
  const m = r.machine;
  out.push(`### npm run bench: ${m.nproc} CPUs (${m.cpu}), node ${m.node}, ${r.loadGenerator.split(' ').slice(0, 2).join(' ')} -t1, 127.0.0.1`);
  out.push('');
  out.push(
    `Built JavaScript; ${r.config.secondsPerCell} s per cell, ${r.config.rounds} round(s) interleaved, medians. ` +
      `echo: POST /echo, a ${r.config.echoBodyBytes}-byte JSON body; SSE: GET /sse, ${r.config.sseChunksPerResponse} chunks per response (chunks/s = responses/s x ${r.config.sseChunksPerResponse}).`,
  );
  out.push(
    'Servers: plain Fastify (one process, no appinfra); the hand bridge (a Fastify child forwarding each request to its parent with process.send); ' +
      'appinfra direct mode with inline routes (withRoute) and with forward routes (engine handlers in the same process); appinfra subprocess mode, forward routes, per codec.',
  );
  if (r.config.quick) out.push('', '**--quick run: one short round, figures not for quoting.**');
  out.push('');

  // Figures.
  const rows: string[][] = [];
  for (const c of r.cells) {
    const name = c.route === 'echo' ? `echo c=${c.conns}` : `SSE c=${c.conns}`;
    if (c.route === 'echo') {
      rows.push([`${name} req/s`, ...servers.map((s) => int(c.results[s.key]?.rps ?? NaN))]);
      if (c.conns === 1) {
        rows.push([`${name} p50`, ...servers.map((s) => us(c.results[s.key]?.p50Us ?? NaN))]);
        rows.push([`${name} p99`, ...servers.map((s) => us(c.results[s.key]?.p99Us ?? NaN))]);
      }
    } else {
      rows.push([`${name} chunks/s`, ...servers.map((s) => int(c.results[s.key]?.chunksPerSec ?? NaN))]);
    }
  }
  out.push(table(['cell', ...servers.map((s) => s.label)], rows));
  out.push('');

  // Ratios, paired per round.
  for (const [base, label] of [['plain', 'plain Fastify'], ['bridge', 'the hand bridge']] as const) {
    if (!servers.some((s) => s.key === base)) continue;
    const others = servers.filter((s) => s.key !== base);
    const ratioRows: string[][] = [];
    for (const c of r.cells) {
      const vs = base === 'plain' ? c.vsPlain : c.vsBridge;
      ratioRows.push([c.route === 'echo' ? `echo c=${c.conns} req/s` : `SSE c=${c.conns} chunks/s`, ...others.map((s) => times(vs[s.key]?.ratio))]);
      if (c.route === 'echo' && c.conns === 1) ratioRows.push([`echo c=1 p50`, ...others.map((s) => plus(vs[s.key]?.p50DeltaUs))]);
    }
    out.push(`vs ${label} (median over rounds of each round's ratio; p50: difference):`);
    out.push('');
    out.push(table(['cell', ...others.map((s) => s.label)], ratioRows));
    out.push('');
  }

  // CPU.
  out.push('CPU, cores used per process (cpu-seconds / wall seconds, from /proc; "all": every CPU of the machine, wrk included):');
  out.push('');
  out.push(
    table(
      ['server', ...r.cells.map((c) => (c.route === 'echo' ? `echo c=${c.conns}` : `SSE c=${c.conns}`))],
      servers.map((s) => [
        s.label,
        ...r.cells.map((c) => {
          const x = c.results[s.key];
          if (!x) return '-';
          return `${Object.entries(x.cores).map(([role, v]) => `${role} ${v.toFixed(2)}`).join(', ')} (all ${x.machineCores.toFixed(2)})`;
        }),
      ]),
    ),
  );
  out.push('');

  const f = r.ipcFloor;
  out.push(`IPC floor (two Node processes, socketpair, length-prefixed frames, 1 in flight): p50 ${f.p50Us} µs, p99 ${f.p99Us} µs (median over ${f.runs.length} round(s)).`);
  out.push('');
  const cs = r.coldStart;
  if (cs) {
    const cold = Object.entries(cs.firstAnswerMs);
    out.push(`Cold start, spawn to the first answered POST /echo (median of ${cs.n}):`);
    out.push('');
    out.push(
      table(
        ['', ...cold.map(([k]) => servers.find((s) => s.key === k)?.label ?? k), 'appinfra web process, fork to listening', 'kill -9 to serving again (1 worker)', 'node -e 0, spawn to exit'],
        [['ms', ...cold.map(([, v]) => ms(v.median)), ms(cs.webForkToListeningMs.median), `${ms(cs.kill9ToServingMs.median)} (n=${cs.kill9ToServingMs.runs.length})`, cs.nodeBareMs ? ms(cs.nodeBareMs.median) : 'n/a']],
      ),
    );
    out.push('');
  }
  if (r.targets.length > 0) {
    out.push('Targets (issue 14, subprocess = json codec):');
    out.push('');
    for (const t of r.targets) out.push(`- ${t.met ? 'MET' : 'MISSED'}: ${t.target} (${t.value})`);
    out.push('');
  }
  return out.join('\n');
}
