/**
 * Role `all` (the default, one machine) on the Redis backbone with a process group that has
 * a `module:`: the web process sends the group's requests to the group's stream, the main
 * process takes them from there and relays them to the group's own processes, and the
 * answers come back. One `appinfra serve` and a real redis-server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { guardLeaks } from '../helpers.js';
import { CLI, start, stop, type Running } from '../cli/proc.js';
import { RedisServer } from './redis-server.js';
import { groupsOnRedis } from './groups-app.js';

const redis = new RedisServer();
const running: Running[] = [];
const dir = guardLeaks({
  tmp: 'appinfra-role-all-groups-',
  cleanup: async () => {
    await Promise.all(running.splice(0).map((p) => stop(p, 'SIGKILL')));
    await redis.dispose();
  },
});

const PREFIX = 'appinfra:groups-example';

const appFile = (): string => groupsOnRedis(dir, 10);

const call = async (url: string, body?: unknown): Promise<{ status: number; pid?: number; message?: string }> => {
  const init: RequestInit = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, ...((await res.json()) as { pid?: number; message?: string }) };
};

test('role all with a process group over Redis: the group\'s requests go through its stream to its own processes, and the answers come back', { timeout: 120_000 }, async () => {
  await redis.start();
  // No --role: `all`, with a secret generated for the run.
  const server = start(CLI, ['serve', appFile(), '--port', '0', '--redis-url', redis.url]);
  running.push(server);
  const url = (await server.waitForOutput(/listening on (http:\/\/[\d.:]+)/, 60_000))[1]!;

  const digests = await Promise.all(Array.from({ length: 20 }, () => call(`${url}/v1/digest`, { rounds: 10 })));
  const wheres = await Promise.all(Array.from({ length: 20 }, () => call(`${url}/v1/where`)));
  const echoes = await Promise.all(Array.from({ length: 20 }, (_, i) => call(`${url}/v1/echo`, { message: `m${i}` })));
  for (const r of [...digests, ...wheres, ...echoes]) assert.equal(r.status, 200, JSON.stringify(r));
  assert.deepEqual(echoes.map((r) => r.message), echoes.map((_, i) => `m${i}`));

  const groupPids = new Set([...digests, ...wheres].map((r) => r.pid));
  assert.ok(!groupPids.has(server.child.pid), 'the group\'s handlers did not run in the main process');
  assert.ok(!groupPids.has(undefined));
  for (const pid of groupPids) {
    const parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    assert.equal(parent, server.child.pid, `pid ${pid} is one of this server's group processes`);
  }
  assert.deepEqual(new Set(echoes.map((r) => r.pid)), new Set([server.child.pid]), 'the other handlers ran in the main process');

  // Both kinds went over Redis, each through its own stream, and left nothing queued there.
  const cli = redis.client();
  try {
    const delivered = async (key: string): Promise<number> => Number(((await cli.call('XINFO', 'GROUPS', key)) as unknown[][])[0]![9]);
    assert.equal(await delivered(`${PREFIX}:requests:cpu_sync`), 40);
    assert.equal(await delivered(`${PREFIX}:requests:engine`), 20);
    assert.equal(await cli.xlen(`${PREFIX}:requests:cpu_sync`), 0);
  } finally {
    cli.disconnect();
  }
  // A clean stop (143: SIGTERM, handled) leaves only the empty request streams.
  const exit = await stop(server, 'SIGTERM');
  assert.equal(exit.code, 143, server.stderr);
  const after = redis.client();
  try {
    assert.deepEqual((await after.keys(`${PREFIX}:*`)).sort(), [`${PREFIX}:requests:cpu_sync`, `${PREFIX}:requests:engine`]);
    assert.deepEqual(await after.call('PUBSUB', 'CHANNELS', `${PREFIX}:*`), []);
  } finally {
    after.disconnect();
  }
});
