/**
 * The Redis backbone under the channel and the engine, against a real redis-server: a
 * route does not know which transport carries it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { IPCChannel } from '../../src/channel/channel.js';
import { Engine } from '../../src/engine/engine.js';
import { jsonCodec } from '../../src/ipc/codecs/index.js';
import { RedisWebLink } from '../../src/ipc/transports/redis/web-link.js';
import { RedisWorkerLink } from '../../src/ipc/transports/redis/worker-link.js';
import type { RedisBackboneOptions } from '../../src/ipc/transports/redis/options.js';
import { AppinfraError, OverloadedError } from '../../src/errors/index.js';
import { generateSecret } from '../../src/ipc/signing.js';
import { guardLeaks, waitFor } from '../helpers.js';
import { RedisServer } from './redis-server.js';

const redis = new RedisServer();
const started: { stop(): Promise<void> }[] = [];
guardLeaks({
  cleanup: async () => {
    for (const s of started.splice(0).reverse()) await s.stop();
    await redis.dispose();
  },
});

const secret = generateSecret();
let n = 0;
const optionsFor = (extra: Partial<RedisBackboneOptions> = {}): RedisBackboneOptions => ({ url: redis.url, prefix: `t${++n}`, secret, codec: jsonCodec, claimIdleMs: 600, ...extra });

async function pair(options: RedisBackboneOptions, engine = new Engine()): Promise<{ channel: IPCChannel; web: RedisWebLink; worker: RedisWorkerLink; engine: Engine }> {
  const worker = new RedisWorkerLink(options);
  engine.attach(worker, 'backbone');
  await worker.start();
  started.push(worker);
  const web = new RedisWebLink(options, 'web');
  await web.start();
  started.push(web);
  const channel = new IPCChannel({ maxPending: 1000, responseTimeout: 5, replyTo: web.name }, web);
  await channel.start();
  started.push(channel);
  return { channel, web, worker, engine };
}

test('request/reply, errors with their status, and streams with credit travel over Redis', async () => {
  await redis.start();
  const engine = new Engine();
  engine.handle('echo', (p) => p);
  engine.handle('boom', () => {
    throw Object.assign(new Error('no'), { status: 418, code: 'TEAPOT' });
  });
  engine.handle('count', async function* (p: { n: number }) {
    for (let i = 0; i < p.n; i++) yield { i };
  });
  const { channel } = await pair(optionsFor(), engine);
  assert.deepEqual(await channel.submit({ message: 'hi', id: 'a1' }, { route: 'echo' }), { message: 'hi', id: 'a1' });
  await assert.rejects(channel.submit({}, { route: 'boom' }), (err: AppinfraError) => err.status === 418 && err.code === 'TEAPOT');
  const seen: number[] = [];
  // A window of 4 for 100 chunks: the worker has to wait for credit 24 times.
  for await (const c of channel.submitStreaming({ n: 100 }, { route: 'count', window: 4 })) seen.push((c as { i: number }).i);
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
  const many = await Promise.all(Array.from({ length: 500 }, (_, i) => channel.submit({ i }, { route: 'echo' })));
  assert.deepEqual(many.map((r) => (r as { i: number }).i), Array.from({ length: 500 }, (_, i) => i));
  assert.equal(engine.pendingCount, 0);
});
