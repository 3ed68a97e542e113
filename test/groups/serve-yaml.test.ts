/** `appinfra serve` on the seed-000 contract with execution_ipc tcp_local and a process group. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardLeaks, isAlive, waitFor, json } from '../helpers.js';
import { CLI, start, stop } from '../cli/proc.js';

guardLeaks();

test('serve runs the cpu_sync group of groups.yaml in 2 processes over tcp_local; the contract says so; SIGTERM stops them all', async () => {
  const p = start(CLI, ['serve', 'examples/config/groups.yaml', '--port', '0']);
  try {
    const [, url] = await p.waitForOutput(/listening on (\S+) \(subprocess mode/, 40_000);
    assert.match(p.stdout, /transport: tcp_local/);
    assert.match(p.stdout, /name: cpu_sync\n\s+processes: 2\n\s+handlers:\n\s+- digest\n\s+- where/);
    const mainPid = p.child.pid!;
    const pids = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${url}/v1/digest`, json({ rounds: 1000 }));
      assert.equal(r.status, 200);
      pids.add(((await r.json()) as { pid: number }).pid);
    }
    assert.ok(!pids.has(mainPid));
    const echo = (await (await fetch(`${url}/v1/echo`, json({ message: 'hi' }))).json()) as { pid: number };
    assert.equal(echo.pid, mainPid, 'ungrouped handlers stay in the main process');
    const health = (await (await fetch(`${url}/_health`)).json()) as { groups: { name: string; state: string; processes: { pid: number }[] }[] };
    assert.equal(health.groups[0]!.name, 'cpu_sync');
    assert.equal(health.groups[0]!.processes.length, 2);
    const groupPids = health.groups[0]!.processes.map((x) => x.pid);
    for (const pid of pids) assert.ok(groupPids.includes(pid));
    assert.equal((await fetch(`${url}/v1/digest`, json({ rounds: 0 }))).status, 422);
    assert.deepEqual(await stop(p, 'SIGTERM'), { code: 143, signal: null });
    await waitFor(() => groupPids.every((pid) => !isAlive(pid)), 5000, 'group processes to exit');
  } finally {
    await stop(p, 'SIGKILL');
  }
});
