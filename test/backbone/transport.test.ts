/**
 * The Redis backbone under the channel and the engine, against a real redis-server: a
 * route does not know which transport carries it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { jsonCodec } from '../../src/ipc/codecs/index.js';
import { RedisWorkerLink } from '../../src/ipc/transports/redis/worker-link.js';
import type { RedisBackboneOptions } from '../../src/ipc/transports/redis/options.js';
import { AppinfraError, OverloadedError } from '../../src/errors/index.js';
import { generateSecret } from '../../src/ipc/signing.js';
import { encodeFrame } from '../../src/ipc/frame.js';
import { packMessage } from '../../src/ipc/transports/redis/entry.js';
import { guardLeaks, waitFor } from '../helpers.js';
import { RedisServer } from './redis-server.js';
import { linkPair, type LinkPair } from './link-pair.js';

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
const quiet = (): Engine => new Engine(undefined, undefined, pino({ level: 'silent' }));
const optionsFor = (extra: Partial<RedisBackboneOptions> = {}): RedisBackboneOptions => ({ url: redis.url, prefix: `t${++n}`, secret, codec: jsonCodec, claimIdleMs: 600, ...extra });

/** An engine whose `slow` handler runs until its signal aborts; `counts` says how many started and were aborted. */
function slowEngine(): { engine: Engine; counts: { started: number; aborted: number } } {
  const engine = quiet();
  const counts = { started: 0, aborted: 0 };
  engine.handle('slow', (_p, ctx) => {
    counts.started++;
    return new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        counts.aborted++;
        resolve('late');
      });
    });
  });
  return { engine, counts };
}

async function pair(options: RedisBackboneOptions, engine = quiet()): Promise<LinkPair & { engine: Engine }> {
  return { ...(await linkPair(options, engine, started, { maxPending: 1000, responseTimeout: 5 })), engine };
}

test('request/reply, errors with their status, and streams with credit travel over Redis', async () => {
  await redis.start();
  const engine = quiet();
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

test('a cancel reaches the worker running the request; a request past its deadline is never started', async () => {
  const { engine, counts } = slowEngine();
  const { channel, worker, web } = await pair(optionsFor(), engine);
  const gone = new AbortController();
  const call = channel.submit({}, { route: 'slow', signal: gone.signal });
  await waitFor(() => counts.started === 1, 5000, 'the worker to start the request');
  channel.cancel(channel.nextId()); // an unknown id changes nothing
  const waiter = (channel as unknown as { waiters: { values(): { id: string }[] } }).waiters.values()[0]!.id;
  channel.cancel(waiter);
  await assert.rejects(call, (err: AppinfraError) => err.status === 499);
  await waitFor(() => counts.aborted === 1, 5000, 'the handler to see its signal abort');
  assert.equal(worker.inFlight, 0);

  // A request whose deadline has passed when a worker takes it (a web process answers 504 at that
  // moment): signed like any other, but never started.
  const before = counts.started;
  web.send({ kind: 'request', id: 'late-1', replyTo: web.name, route: 'slow', deadline: Date.now() - 1000, payload: {} });
  await waitFor(() => worker.stats.expired === 1, 5000, 'the worker to drop the expired entry');
  await sleep(50);
  assert.equal(counts.started, before, 'a request whose deadline passed is not started');
  assert.equal(worker.stats.expired, 1);
});

test('an entry added without a valid signature is refused and counted, and never runs', async () => {
  const engine = quiet();
  let ran = 0;
  engine.handle('echo', (p) => {
    ran++;
    return p;
  });
  const { channel, worker, web } = await pair(optionsFor(), engine);
  const raw = redis.client();
  try {
    // What redis-cli XADD would do: a well-formed request with a made-up signature, a bare frame, another field.
    const frame = encodeFrame({ kind: 'request', id: 'forged.1', route: 'echo', payload: {} }, jsonCodec).subarray(4);
    await raw.xadd(web.keys.requests(), '*', 'm', packMessage({ f: frame, t: Date.now(), n: 'n1', s: 'A'.repeat(43) }));
    await raw.xadd(web.keys.requests(), '*', 'm', frame);
    await raw.xadd(web.keys.requests(), '*', 'junk', 'yes');
    await waitFor(() => worker.stats.refused === 3, 5000, 'three refusals');
    assert.equal(worker.refusals.bad_signature, 1, 'the made-up signature');
    assert.equal(worker.refusals.malformed, 2, 'the bare frame and the other field');
    assert.equal(ran, 0);
    await waitFor(async () => (await raw.xlen(web.keys.requests())) === 0, 5000, 'refused entries to be deleted');
    // A signed request still runs.
    assert.equal(((await channel.submit({ ok: 1 }, { route: 'echo' })) as { ok: number }).ok, 1);
  } finally {
    raw.disconnect();
  }
  assert.equal(ran, 1);
});

test('a full request stream answers 503 with Retry-After at admission, never an unbounded queue', async () => {
  const engine = quiet();
  const release: (() => void)[] = [];
  engine.handle('hold', () => new Promise<string>((r) => release.push(() => r('done'))));
  const { channel, worker } = await pair(optionsFor({ maxLength: 5, maxInFlight: 2 }), engine);
  const held = Array.from({ length: 5 }, () => channel.submit({}, { route: 'hold' }));
  await waitFor(() => worker.inFlight === 2, 5000, 'two running');
  const refused = await channel.submit({}, { route: 'hold' }).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(refused instanceof OverloadedError, `got ${String(refused)}`);
  assert.equal(refused.status, 503);
  assert.ok(refused.retryAfter >= 1);
  const drain = async (): Promise<void> => {
    while (release.length > 0 || worker.inFlight > 0) {
      release.splice(0).forEach((r) => r());
      await sleep(10);
    }
  };
  const drained = drain();
  assert.deepEqual(await Promise.all(held), ['done', 'done', 'done', 'done', 'done']);
  await drained;
});

test('a dead worker\'s entries are reclaimed: idempotent handlers run again elsewhere, others answer 502 once', async () => {
  const options = optionsFor({ idempotent: ['again'] });
  const dying = quiet();
  let firstRuns = 0;
  // This worker takes the requests and never answers: then it "dies" (stops without finishing them).
  dying.handle(() => {
    firstRuns++;
    return new Promise(() => undefined);
  });
  const { channel, worker: doomed } = await pair(options, dying);
  const again = channel.submit({ n: 1 }, { route: 'again' });
  const once = channel.submit({ n: 2 }, { route: 'once' }).then(
    () => assert.fail('answered'),
    (err: AppinfraError) => err,
  );
  await waitFor(() => firstRuns === 2, 5000, 'the first worker to take both');
  await doomed.stop();
  const live = quiet();
  let secondRuns = 0;
  live.handle('again', (p) => {
    secondRuns++;
    return { reran: p };
  });
  live.handle('once', () => {
    secondRuns++;
    return 'must not run';
  });
  const rescuer = new RedisWorkerLink(options);
  live.attach(rescuer);
  await rescuer.start();
  started.push(rescuer);
  assert.deepEqual(((await again) as { reran: { n: number } }).reran.n, 1, 'the idempotent request ran again and answered');
  const lost = await once;
  assert.deepEqual([lost.status, lost.code], [502, 'APPINFRA_ERR_WORKER_LOST']);
  assert.equal(secondRuns, 1, 'only the idempotent one ran again');
  assert.equal(rescuer.stats.reclaimed, 2);
  assert.equal(rescuer.stats.rerun, 1);
  assert.equal(rescuer.stats.lost, 1);
});

test('Redis restarted: requests in flight end with 503 at once, admission says 503, then service resumes by itself', async () => {
  const engine = quiet();
  engine.handle('echo', (p) => p);
  engine.handle('hang', () => new Promise(() => undefined));
  const { channel, web, worker } = await pair(optionsFor(), engine);
  const hanging = channel.submit({}, { route: 'hang', timeout: 30 }).then(
    () => assert.fail('answered'),
    (err: AppinfraError) => err,
  );
  await waitFor(() => worker.inFlight === 1, 5000, 'the request to run');
  await redis.stop();
  const err = await hanging;
  assert.deepEqual([err.status, err.code], [503, 'APPINFRA_ERR_CHANNEL_CLOSED'], 'ended at once, long before its 30 s deadline');
  await waitFor(() => !web.isOpen, 5000, 'the link to say Redis is down');
  assert.equal(channel.isConnected, false, '/_health reads this: 503');
  await assert.rejects(channel.submit({}, { route: 'echo' }), (e: AppinfraError) => e.status === 503);
  // The worker sees Redis go on its own connections, which may close a moment after the web link's.
  await waitFor(() => worker.inFlight === 0, 5000, 'the worker to abandon the request it could not answer');
  await redis.start();
  await waitFor(() => web.isOpen, 15_000, 'the web link to reconnect');
  // The consumer group went with the old server's memory; the worker creates it again.
  await waitFor(
    async () => {
      const r = await channel.submit({ again: true }, { route: 'echo', timeout: 2 }).catch(() => undefined);
      return (r as { again?: boolean } | undefined)?.again === true;
    },
    20_000,
    'a request to succeed after the restart',
  );
});

test('a clean stop leaves no reply channel, presence key or consumer behind', async () => {
  const engine = quiet();
  engine.handle('echo', (p) => p);
  const options = optionsFor();
  const { channel, web, worker } = await pair(options, engine);
  await channel.submit({ a: 1 }, { route: 'echo' });
  const raw = redis.client();
  try {
    assert.ok((await raw.keys(`${options.prefix}:*`)).length >= 2, 'request stream and presence key exist while running');
    await channel.stop();
    await web.stop();
    await worker.stop();
    assert.deepEqual(await raw.call('PUBSUB', 'CHANNELS', `${options.prefix}:*`), [], 'no subscriber left');
    assert.deepEqual((await raw.keys(`${options.prefix}:*`)).sort(), [`${options.prefix}:requests:engine`], 'only the (empty) request stream of the app stays');
    assert.equal(await raw.xlen(`${options.prefix}:requests:engine`), 0);
    const consumers = (await raw.call('XINFO', 'CONSUMERS', `${options.prefix}:requests:engine`, 'workers')) as unknown[];
    assert.equal(consumers.length, 0);
  } finally {
    raw.disconnect();
  }
});

test('a reply published by anyone without the secret is refused and counted, and answers nothing', async () => {
  const { engine, counts } = slowEngine();
  const options = optionsFor();
  const { channel, web } = await pair(options, engine);
  const call = channel.submit({}, { route: 'slow' }).then(
    () => 'answered',
    () => 'ended',
  );
  await waitFor(() => counts.started === 1, 5000, 'the worker to start the request');
  const id = (web as unknown as { outstanding: { values(): { id: string }[] } }).outstanding.values()[0]!.id;
  const raw = redis.client();
  try {
    const frame = encodeFrame({ kind: 'response', id, payload: { forged: true } }, jsonCodec);
    const unsigned = Buffer.concat([Buffer.from([0, 0, 0, frame.length]), frame, Buffer.from(`${Date.now()} n1 ${'A'.repeat(43)}`)]);
    await raw.publish(`${options.prefix}:reply:${web.name}`, unsigned);
    await raw.publish(`${options.prefix}:reply:${web.name}`, 'not a message');
    await waitFor(() => web.stats.refused === 2, 5000, 'two refusals');
    assert.equal(web.inFlight, 1, 'the request still waits for its real answer');
  } finally {
    raw.disconnect();
  }
  await channel.stop();
  assert.equal(await call, 'ended');
});

test('a web process that died (its presence key gone): its running request is stopped, its queued ones never start', async () => {
  const { engine, counts } = slowEngine();
  const options = optionsFor({ maxInFlight: 1 });
  const { channel, worker, web } = await pair(options, engine);
  const calls = Array.from({ length: 5 }, () => channel.submit({}, { route: 'slow' }).catch(() => 'ended'));
  await waitFor(() => counts.started === 1, 5000, 'the worker to start the first request');
  await sleep(100);
  assert.equal(counts.started, 1, 'one at a time (maxInFlight 1): four wait in the request stream');
  // What a kill -9 leaves behind: no more heartbeats, and the presence key expires. Expiry is
  // stood in for by deleting the key, so the test does not wait out the 5 s TTL.
  clearInterval((web as unknown as { heartbeat: NodeJS.Timeout }).heartbeat);
  const raw = redis.client();
  try {
    await raw.del(`${options.prefix}:alive:${web.name}`);
    await waitFor(() => counts.aborted === 1, 10_000, 'the running request of the dead web process to be stopped');
    await waitFor(() => worker.stats.orphaned === 5, 10_000, 'the four queued requests to be dropped');
    await sleep(100);
    assert.equal(counts.started, 1, 'no queued request of the dead web process was started');
  } finally {
    raw.disconnect();
  }
  await channel.stop();
  await Promise.all(calls);
});
