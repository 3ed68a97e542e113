/**
 * `--role group:NAME` over the backbone: a web role, a worker of the cpu_sync process group
 * and an engine worker, each its own `appinfra serve`, and a real redis-server. A grouped
 * handler's requests go to its group's stream and only the group worker serves them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSecret } from '../../src/ipc/signing.js';
import { guardLeaks } from '../helpers.js';
import { CLI, start, stop, type Running } from '../cli/proc.js';
import { RedisServer } from './redis-server.js';
import { groupsOnRedis } from './groups-app.js';

const redis = new RedisServer();
const running: Running[] = [];
const dir = guardLeaks({
  tmp: 'appinfra-group-role-',
  cleanup: async () => {
    await Promise.all(running.splice(0).map((p) => stop(p, 'SIGKILL')));
    await redis.dispose();
  },
});


// A short deadline, for the request nobody may take.
const appFile = (): string => groupsOnRedis(dir, 3);

function serve(file: string, role: string): Running {
  const p = start(CLI, ['serve', file, '--role', role, '--port', '0', '--redis-url', redis.url, '--secret-file', join(dir, 'secret')]);
  running.push(p);
  return p;
}

/** POST with a body, GET without. */
const call = async (url: string, body?: unknown): Promise<{ status: number; pid?: number; message?: string }> => {
  const init: RequestInit = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, ...((await res.json()) as { pid?: number; message?: string }) };
};

test('--role group:NAME serves only its group\'s handlers, from its own request stream; the engine role the others', { timeout: 120_000 }, async () => {
  await redis.start();
  writeFileSync(join(dir, 'secret'), generateSecret().toString('hex'), { mode: 0o600 });
  const file = appFile();
  const group = serve(file, 'group:cpu_sync');
  const engine = serve(file, 'engine');
  const web = serve(file, 'web');
  await group.waitForOutput(/process group "cpu_sync" worker on the Redis backbone \(pid (\d+)\)/, 60_000);
  await engine.waitForOutput(/engine worker on the Redis backbone \(pid (\d+)\)/, 60_000);
  const url = (await web.waitForOutput(/listening on (http:\/\/[\d.:]+)/, 60_000))[1]!;

  const digests = await Promise.all(Array.from({ length: 20 }, () => call(`${url}/v1/digest`, { rounds: 10 })));
  const wheres = await Promise.all(Array.from({ length: 20 }, () => call(`${url}/v1/where`)));
  const echoes = await Promise.all(Array.from({ length: 20 }, (_, i) => call(`${url}/v1/echo`, { message: `m${i}` })));
  for (const r of [...digests, ...wheres, ...echoes]) assert.equal(r.status, 200);
  assert.deepEqual(new Set([...digests, ...wheres].map((r) => r.pid)), new Set([group.child.pid]), 'the group\'s handlers ran in the group worker only');
  assert.deepEqual(new Set(echoes.map((r) => r.pid)), new Set([engine.child.pid]), 'the other handlers ran in the engine worker only');
  assert.deepEqual(echoes.map((r) => r.message), echoes.map((_, i) => `m${i}`));

  // The streams are per group: the group's requests never touched the engine's stream.
  const cli = redis.client();
  try {
    const streams = (await cli.keys('appinfra:groups-example:requests:*')).sort();
    assert.deepEqual(streams, ['appinfra:groups-example:requests:cpu_sync', 'appinfra:groups-example:requests:engine']);
    const delivered = async (key: string): Promise<number> => Number(((await cli.call('XINFO', 'GROUPS', key)) as unknown[][])[0]![9]);
    assert.equal(await delivered('appinfra:groups-example:requests:cpu_sync'), 40);
    assert.equal(await delivered('appinfra:groups-example:requests:engine'), 20);
  } finally {
    cli.disconnect();
  }

  // Without a group worker, the group's requests wait in its stream: the engine role does not take them.
  await stop(group, 'SIGTERM');
  const late = await call(`${url}/v1/where`).catch(() => ({ status: 0 }));
  assert.equal(late.status, 504, 'no other role served the group\'s request');
  await Promise.all([stop(web, 'SIGTERM'), stop(engine, 'SIGTERM')]);
});
