/**
 * A web process far behind on its reply channel: Redis disconnects a pub/sub client whose
 * output buffer passes `client-output-buffer-limit pubsub`. Made deterministic with a tiny
 * limit and a reply larger than it, against a real redis-server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { jsonCodec } from '../../src/ipc/codecs/index.js';
import type { AppinfraError } from '../../src/errors/index.js';
import { generateSecret } from '../../src/ipc/signing.js';
import { guardLeaks, waitFor } from '../helpers.js';
import { RedisServer } from './redis-server.js';
import { linkPair } from './link-pair.js';

const redis = new RedisServer();
const started: { stop(): Promise<void> }[] = [];
guardLeaks({
  cleanup: async () => {
    for (const s of started.splice(0).reverse()) await s.stop();
    await redis.dispose();
  },
});

const failure = (p: Promise<unknown>): Promise<AppinfraError> =>
  p.then(
    () => assert.fail('answered'),
    (err: AppinfraError) => err,
  );

test('a web process past the pub/sub output-buffer limit: its requests in flight end with 503, then it subscribes again and serves', { timeout: 60_000 }, async () => {
  await redis.start();
  const engine = new Engine(undefined, undefined, pino({ level: 'silent' }));
  engine.handle('echo', (p) => p);
  engine.handle('big', () => 'x'.repeat(256 * 1024));
  engine.handle('hang', () => new Promise(() => undefined));
  const options = { url: redis.url, prefix: 'obl', secret: generateSecret(), codec: jsonCodec };
  const { channel, web, worker } = await linkPair(options, engine, started, { maxPending: 100, responseTimeout: 30 });
  assert.equal(((await channel.submit({ before: 1 }, { route: 'echo' })) as { before: number }).before, 1);

  const raw = redis.client();
  try {
    // 64 KB hard limit for pub/sub clients: one 256 KB reply is more than the web process's socket takes at once.
    await raw.config('SET', 'client-output-buffer-limit', 'pubsub 65536 0 0');
    const subscriber = async (): Promise<string | undefined> => /id=(\d+) .*name=appinfra-web-replies:/.exec(String(await raw.call('CLIENT', 'LIST')))?.[1];
    const before = await subscriber();
    assert.ok(before);
    const hanging = failure(channel.submit({}, { route: 'hang', timeout: 30 }));
    await waitFor(() => worker.inFlight === 1, 5000, 'the hanging request to run');
    const t0 = Date.now();
    const big = failure(channel.submit({}, { route: 'big', timeout: 30 }));
    const [a, b] = await Promise.all([hanging, big]);
    assert.deepEqual([a.status, a.code], [503, 'APPINFRA_ERR_CHANNEL_CLOSED'], 'the request in flight ended with 503, not at its 30 s deadline');
    assert.deepEqual([b.status, b.code], [503, 'APPINFRA_ERR_CHANNEL_CLOSED'], 'so did the one whose reply was cut off');
    assert.ok(Date.now() - t0 < 10_000, 'at once, not at a deadline');
    assert.ok(web.stats.unreachable >= 2);
    // Its command connection stayed up: the worker hears the requests were given up and stops them, or a stream would wait for credit forever.
    await waitFor(() => worker.inFlight === 0, 5000, 'the worker to stop the request the web process gave up');

    // Subscribed again by itself: small replies flow as before, on the same link.
    await waitFor(() => web.isOpen, 15_000, 'the web link to serve again');
    const after = await subscriber();
    assert.ok(after && after !== before, 'Redis cut the subscriber off; this is a new connection');
    assert.equal(((await channel.submit({ after: 1 }, { route: 'echo' })) as { after: number }).after, 1);
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => channel.submit({ i }, { route: 'echo' })));
    assert.deepEqual(
      many.map((r) => (r as { i: number }).i),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(await raw.call('PUBSUB', 'NUMSUB', web.keys.reply(web.name)), [web.keys.reply(web.name), 1], 'one subscription, not one per reconnect');
  } finally {
    raw.disconnect();
  }
});
