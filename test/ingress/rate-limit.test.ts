/**
 * Rate limits as a user of the Python original sees them: a rate string, a token bucket
 * with an optional burst, per IP / per header / global keys, exempt paths, 429 with
 * Retry-After and the X-RateLimit-* headers; exact across two web processes because the
 * buckets are kept in the main process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerBuilder, Queue, ConfigError, TokenBuckets, type RateLimitStore, type Server } from '../../src/index.js';
import { guardLeaks } from '../helpers.js';

const servers: Server[] = [];
guardLeaks({ cleanup: () => Promise.all(servers.map((s) => s.stop(1))) });

async function start(configure: (b: ServerBuilder) => ServerBuilder, workers = 0): Promise<{ server: Server; url: string }> {
  let b = configure(new ServerBuilder('limited').withPort(0).routes.withForward('/echo', { handler: 'echo' }).done());
  if (workers > 0) b = b.uvicorn.withWorkers(workers).done().subprocess.withIpc(new Queue(), new Queue()).done();
  const server = b.build();
  servers.push(server);
  server.engine.handle('echo', async () => ({ ok: true }));
  const { url } = await server.listen();
  return { server, url };
}

/** `n` requests at once, each on its own connection (so the kernel spreads them over the workers). */
async function burst(url: string, n: number, headers: Record<string, string> = {}): Promise<Response[]> {
  return Promise.all(Array.from({ length: n }, () => fetch(url, { headers: { connection: 'close', ...headers } })));
}

test('2 web processes, 10 per minute, 100 at once: exactly 10 allowed, the rest 429 with Retry-After', async () => {
  const { server, url } = await start((b) => b.withRateLimit('10/min'), 2);
  assert.equal(server.processes.length, 2);
  const replies = await burst(`${url}/echo`, 100);
  const ok = replies.filter((r) => r.status === 200);
  const limited = replies.filter((r) => r.status === 429);
  assert.equal(ok.length, 10);
  assert.equal(limited.length, 90);
  // One bucket for both processes: each remaining count was handed out once.
  assert.deepEqual(ok.map((r) => Number(r.headers.get('x-ratelimit-remaining'))).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const r of ok) {
    assert.equal(r.headers.get('x-ratelimit-limit'), '10');
    assert.ok(Number(r.headers.get('x-ratelimit-reset')) > 0);
  }
  for (const r of limited) {
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 6, `Retry-After ${retry}`);
    const body = (await r.json()) as { code: string; statusCode: number };
    assert.equal(body.code, 'RATE_LIMITED');
    assert.equal(body.statusCode, 429);
  }
  // /_health is exempt by default.
  assert.equal((await fetch(`${url}/_health`)).status, 200);
  await server.stop(1);
});

test('a burst on top of the rate: 10/min + 5 allows 15 (2 web processes)', async () => {
  const { server, url } = await start((b) => b.withRateLimit('10/min', { burst: 5 }), 2);
  const replies = await burst(`${url}/echo`, 40);
  assert.equal(replies.filter((r) => r.status === 200).length, 15);
  assert.equal(replies.filter((r) => r.status === 429).length, 25);
  assert.equal(replies.find((r) => r.status === 200)!.headers.get('x-ratelimit-limit'), '15');
  await server.stop(1);
});

test('the bucket refills over time (10/s)', async () => {
  const { server, url } = await start((b) => b.withRateLimit('10/s'), 2);
  const first = await burst(`${url}/echo`, 40);
  const allowed = first.filter((r) => r.status === 200).length;
  // 10, plus what refilled while the burst was being served on a busy machine.
  assert.ok(allowed >= 10 && allowed < 40, `allowed ${allowed}`);
  assert.ok(first.some((r) => r.status === 429));
  await sleep(1100);
  const later = await burst(`${url}/echo`, 5);
  assert.equal(later.filter((r) => r.status === 200).length, 5, 'a second later the bucket holds 10 again');
  await server.stop(1);
});

test('key per header: each API key has its own bucket; global: one bucket for everyone', async () => {
  const { server, url } = await start((b) => b.withRateLimit('3/min', { key: 'header:x-api-key' }));
  const a = await burst(`${url}/echo`, 5, { 'x-api-key': 'a' });
  const b = await burst(`${url}/echo`, 5, { 'x-api-key': 'b' });
  assert.equal(a.filter((r) => r.status === 200).length, 3);
  assert.equal(b.filter((r) => r.status === 200).length, 3);
  await server.stop(1);

  const g = await start((b) => b.withRateLimit('4/min', { key: 'global' }));
  const mixed = [...(await burst(`${g.url}/echo`, 3, { 'x-api-key': 'a' })), ...(await burst(`${g.url}/echo`, 3, { 'x-api-key': 'b' }))];
  assert.equal(mixed.filter((r) => r.status === 200).length, 4);
  await g.server.stop(1);
});

test('per route: its own limit, or none; exempt paths', async () => {
  const { server, url } = await start((b) =>
    b
      .withRateLimit('2/min', { exempt: ['/free'] })
      .routes.withForward('/strict', { handler: 'echo', rateLimit: { rate: '1/hour' } })
      .withForward('/open', { handler: 'echo', rateLimit: false })
      .withForward('/free', { handler: 'echo' })
      .done(),
  );
  assert.equal((await burst(`${url}/strict`, 4)).filter((r) => r.status === 200).length, 1);
  assert.equal((await burst(`${url}/echo`, 4)).filter((r) => r.status === 200).length, 2, 'the route limits are separate buckets');
  assert.equal((await burst(`${url}/open`, 6)).filter((r) => r.status === 200).length, 6);
  assert.equal((await burst(`${url}/free`, 6)).filter((r) => r.status === 200).length, 6);
  await server.stop(1);
});

test('a refused request is a boundary event: rejected, reason rate_limit', async () => {
  const seen: { route?: string; reason: string }[] = [];
  const onRejected = (m: unknown): void => void seen.push(m as { route?: string; reason: string });
  subscribe('appinfra:rejected', onRejected);
  try {
    const { server, url } = await start((b) => b.withRateLimit('1/min'));
    await burst(`${url}/echo`, 3);
    assert.deepEqual(seen, [{ route: '/echo', reason: 'rate_limit' }, { route: '/echo', reason: 'rate_limit' }]);
    await server.stop(1);
  } finally {
    unsubscribe('appinfra:rejected', onRejected);
  }
});

test('the buckets can live in a store of the user\'s (the interface a Redis store implements), in subprocess mode too', async () => {
  const seen: string[] = [];
  const inner = new TokenBuckets();
  const store: RateLimitStore = {
    async take(bucket, key, rule) {
      seen.push(`${bucket}|${key}|${rule.limit}/${rule.periodMs}`);
      return inner.take(bucket, key, rule);
    },
  };
  const { server, url } = await start((b) => b.withRateLimit('2/s', { key: 'header:x-api-key' }).withRateLimitStore(store), 1);
  const replies = await burst(`${url}/echo`, 3, { 'x-api-key': 'k1' });
  assert.equal(replies.filter((r) => r.status === 200).length, 2);
  assert.deepEqual(seen, ['global|h:k1|2/1000', 'global|h:k1|2/1000', 'global|h:k1|2/1000']);
  await server.stop(1);
});

test('a malformed rate string is refused at build, naming the string and the expected shape', () => {
  for (const [rate, words] of [
    ['10/x', /Invalid rate limit unit: 'x' in '10\/x'/],
    ['ten per second', /Invalid rate limit format: 'ten per second'\. Expected "<number>\/<unit>"/],
    ['0/s', /positive integer/],
  ] as const) {
    const b = new ServerBuilder('bad').withRateLimit(rate);
    assert.throws(() => b.build(), (err: unknown) => err instanceof ConfigError && words.test(err.message) && err.message.includes('api.rateLimit.rate'));
  }
  assert.throws(() => new ServerBuilder('bad').routes.withForward('/x', { rateLimit: { rate: '5/fortnight' } }), /withForward\("\/x"\): rateLimit: rate: Invalid rate limit unit/);
});
