// Rate limits on the Redis backbone: the buckets live in Redis, so web roles on different
// machines (here: two servers, each with its own main process and web process) share one limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, ServerBuilder, generateSecret, type Server } from '../../src/index.js';
import { guardLeaks } from '../helpers.js';
import { RedisServer } from './redis-server.js';

const redis = new RedisServer();
const servers: Server[] = [];
guardLeaks({
  cleanup: async () => {
    for (const s of servers.splice(0)) await s.stop(1);
    await redis.dispose();
  },
});

const secret = generateSecret();

async function machine(prefix: string): Promise<string> {
  const server = new ServerBuilder('rl')
    .withConfig({ port: 0 })
    .withRateLimit('10/min', { key: 'global' })
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .withRedis({ url: redis.url, secret, prefix })
    .done()
    .build();
  server.engine.handle('echo', (req: { body: unknown }) => req.body);
  servers.push(server);
  return (await server.listen()).url;
}

test('two servers on one backbone share one rate limit: 10 per minute means 10 in all, not 10 each', async () => {
  await redis.start();
  const [a, b] = [await machine('rl1'), await machine('rl1')];
  const send = (url: string) => fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
  // One at a time, alternating: each server takes from the bucket in turn.
  const answers: Response[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await send(i % 2 ? a! : b!);
    answers.push(r);
    await r.arrayBuffer();
  }
  const statuses = answers.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 10, `statuses: ${statuses.join(' ')}`);
  assert.equal(statuses.filter((s) => s === 429).length, 30);
  // The first 10 were allowed, 5 by each server: the bucket is not one server's.
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200), `statuses: ${statuses.join(' ')}`);
  const refused = answers.find((r) => r.status === 429)!;
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  const remaining = answers.slice(0, 10).map((r) => Number(r.headers.get('x-ratelimit-remaining')));
  assert.deepEqual(remaining, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 'one bucket counted down across both servers');
  // The bucket is in Redis under the backbone's prefix, and expires by itself.
  const client = redis.client();
  try {
    const keys = await client.keys('rl1:rate:*');
    assert.equal(keys.length, 1, `keys: ${keys.join(', ')}`);
    assert.ok((await client.pttl(keys[0]!)) > 0);
  } finally {
    client.disconnect();
  }
});
