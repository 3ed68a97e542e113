/**
 * The point of process groups: a CPU-bound handler in a 2-process group on a 2-core
 * machine does 8 concurrent requests in about half the wall time the main process alone
 * needs. Asserted as a ratio with a generous margin (the machine is shared); the measured
 * figure is reported as a diagnostic.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { guardLeaks, json } from '../helpers.js';
import { cpus } from 'node:os';
import { burn } from './fixtures/handlers.js';
import { clockTicks, coresUsed, sample } from '../../bench/lib/cpu.js';

const TICKS = clockTicks();

const HANDLERS = new URL('./fixtures/handlers.ts', import.meta.url);
const ROUNDS = 80_000;
let server: Server;
let base: string;
guardLeaks({ cleanup: () => server?.stop(5) });

before(async () => {
  server = new ServerBuilder('cpu')
    .withPort(0)
    .withTimeout(60)
    .withProcessGroup('cpu_sync', { module: HANDLERS, processes: 2, handlers: ['burn'] })
    .routes.withForward('/group', { methods: ['POST'], handler: 'burn' })
    .withForward('/main', { methods: ['POST'], handler: 'burnHere' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .done()
    .build();
  // The same function, in the main process.
  server.engine.handle('burnHere', burn);
  base = (await server.listen()).url;
});

/** The processes of this server: this one (the engine), its web process, its group processes. */
const ours = (): number[] => [process.pid, ...server.processes.map((p) => p.pid!), ...server.groupStatus[0]!.processes.map((p) => p.pid!)];

/** Wall ms of n concurrent requests, and the share of the machine's CPU that others used meanwhile. */
async function wall(path: string, n: number): Promise<{ ms: number; others: number }> {
  const before = sample(ours());
  const rs = await Promise.all(Array.from({ length: n }, () => fetch(`${base}${path}`, json({ rounds: ROUNDS }))));
  for (const r of rs) assert.equal(r.status, 200);
  await Promise.all(rs.map((r) => r.arrayBuffer()));
  const after = sample(ours());
  const used = coresUsed(before, after, TICKS, cpus().length);
  const mine = [...used.perPid.values()].reduce<number>((a, b) => a + (b ?? 0), 0);
  return { ms: after.at - before.at, others: Math.max(0, used.machine - mine) / cpus().length };
}

test('8 concurrent CPU-bound requests: a 2-process group takes about half the main process\'s wall time', async (t) => {
  // Warm both paths (JIT, connections). Then pairs of runs back to back: the two runs of a
  // pair share the background load of the moment, so their ratio is the comparison; the
  // best pair is asserted (others on this shared machine can only make a pair worse).
  await wall('/group', 4);
  await wall('/main', 2);
  const pairs: { main: number; group: number; ratio: number; others: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const main = await wall('/main', 8);
    const group = await wall('/group', 8);
    pairs.push({ main: main.ms, group: group.ms, ratio: group.ms / main.ms, others: Math.max(main.others, group.others) });
  }
  const { main, group, ratio, others } = pairs.reduce((a, b) => (b.ratio < a.ratio ? b : a));
  t.diagnostic(`8 x sha256^${ROUNDS}: main process ${main.toFixed(0)} ms, 2-process group ${group.toFixed(0)} ms, ratio ${ratio.toFixed(2)} (ideal 0.5); all pairs ${pairs.map((p) => p.ratio.toFixed(2)).join(', ')}; other programs used ${(others * 100).toFixed(0)}% of the machine`);
  // Two processes can only beat one with a core to spare: when other programs held most of the
  // machine (a shared CI box; the kernel's autogroup scheduling then gives this test's
  // processes one share between them, however many), the comparison says nothing.
  if (others > 0.35) {
    t.skip(`the machine was busy with other work (${(others * 100).toFixed(0)}% of its CPU): ratio ${ratio.toFixed(2)} reported, not asserted`);
    return;
  }
  assert.ok(ratio < 0.9, `group/main wall time ${ratio.toFixed(2)}: expected well under 1 (ideal 0.5 on 2 cores)`);
});
