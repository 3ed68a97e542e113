import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { guardLeaks, isAlive, waitFor, json } from '../helpers.js';
import { spawnScript, type Spawned } from '../proc.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/serve-groups.ts', import.meta.url));
const started: Spawned[] = [];
const pids: number[] = [];
guardLeaks({
  cleanup: () => {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  },
});

function ready(s: Spawned): Promise<{ port: number; pids: number[] }> {
  return s.until(() => {
    const line = s.stdout.split('\n').find((l) => l.includes('"event":"ready"'));
    return line ? (JSON.parse(line) as { port: number; pids: number[] }) : undefined;
  }, 'the server to be ready', 30_000);
}

test('kill -9 of the main process mid-request leaves no group process (and no web process) behind', async () => {
  const m = spawnScript(SCRIPT);
  started.push(m);
  const r = await ready(m);
  pids.push(...r.pids);
  assert.equal(r.pids.length, 3);
  for (const pid of r.pids) assert.ok(isAlive(pid));
  const echo = await fetch(`http://127.0.0.1:${r.port}/echo`, json({ a: 1 }));
  assert.equal(echo.status, 200);
  const inFlight = fetch(`http://127.0.0.1:${r.port}/slow?ms=20000`).catch(() => 'reset');
  await new Promise((res) => setTimeout(res, 300));
  m.child.kill('SIGKILL');
  await m.exited;
  await waitFor(() => r.pids.every((pid) => !isAlive(pid)), 5000, 'group and web processes to exit after the main process was killed');
  await inFlight;
});

test('SIGTERM of the main process: an in-flight grouped request completes (drain), then every process exits', async () => {
  const m = spawnScript(SCRIPT);
  started.push(m);
  const r = await ready(m);
  pids.push(...r.pids);
  const inFlight = fetch(`http://127.0.0.1:${r.port}/slow?ms=1000`);
  await new Promise((res) => setTimeout(res, 300));
  m.child.kill('SIGTERM');
  const res = await inFlight;
  assert.equal(res.status, 200, await res.clone().text());
  const exit = await m.exited;
  assert.equal(exit.code, 0);
  await waitFor(() => r.pids.every((pid) => !isAlive(pid)), 5000, 'every process to exit');
});
