import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerBuilder, Queue, IPCChannel, Engine, ResponseTimeoutError } from '../../src/index.js';
import { PipeLink } from '../../src/ipc/transports/pipe.js';
import { jsonCodec } from '../../src/ipc/codecs/index.js';
import { assertNoLeaks, resourcesNow, socketPair, waitFor } from '../helpers.js';

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

function get(agent: Agent, url: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('burst of 10 x maxPending: exactly maxPending admitted, the rest 503, all admitted complete, pending back to 0', async () => {
  const maxPending = 20;
  const server = new ServerBuilder('burst')
    .withPort(0)
    .routes.withForward('/hold', { handler: 'hold' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .withMaxPending(maxPending)
    .done()
    .build();
  const gates: (() => void)[] = [];
  server.engine.handle('hold', (req) => new Promise((resolve) => gates.push(() => resolve({ id: req.id }))));
  const { url } = await server.listen();
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  try {
    const all = Array.from({ length: 10 * maxPending }, () => get(agent, `${url}/hold`));
    // Release the engine only once every refused request has had its answer, so the
    // admission count is exact rather than a race between replies and arrivals.
    let refused = 0;
    const tracked = all.map((p) => p.then((r) => {
      if (r.status === 503) refused++;
      return r;
    }));
    await waitFor(() => refused === 9 * maxPending, 20000, `${9 * maxPending} refusals`);
    assert.equal(server.engine.pendingCount, maxPending);
    assert.equal(gates.length, maxPending);
    gates.forEach((g) => g());
    const results = await Promise.all(tracked);
    const ok = results.filter((r) => r.status === 200);
    const busy = results.filter((r) => r.status === 503);
    assert.equal(ok.length, maxPending);
    assert.equal(busy.length, 9 * maxPending);
    assert.ok(busy.every((r) => r.retryAfter === '1'), 'every 503 carries Retry-After');
    assert.equal(new Set(ok.map((r) => JSON.parse(r.body).id)).size, maxPending, 'each admitted request got its own reply');
    await waitFor(() => server.engine.pendingCount === 0, 3000, 'engine pending 0');
    const health = JSON.parse((await get(agent, `${url}/_health`)).body) as { ipc: { pending: number; stats: { rejected: number } } };
    assert.equal(health.ipc.pending, 0);
    assert.equal(health.ipc.stats.rejected, 9 * maxPending);
  } finally {
    agent.destroy();
    await server.stop(2);
  }
});

test('100,000 requests over a real socket, one in ten timing out: no waiter left on either side', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'appinfra-stress-'));
  const { a, b, server: srv } = await socketPair(dir);
  const engine = new Engine();
  engine.attach(new PipeLink(b, { codec: jsonCodec }), 'stress');
  const channel = new IPCChannel({ maxPending: 2000, responseTimeout: 5, replyTo: 'stress' }, new PipeLink(a, { codec: jsonCodec }));
  await channel.start();
  engine.handle('work', (req: { n: number }, ctx) => {
    // Every tenth request never answers by itself: only the caller's timeout ends it.
    if (req.n % 10 === 0) return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null), { once: true }));
    return { n: req.n };
  });
  const total = 100_000;
  const batch = 1000;
  let ok = 0;
  let timedOut = 0;
  const peaks: number[] = [];
  for (let start = 0; start < total; start += batch) {
    const results = await Promise.allSettled(
      Array.from({ length: batch }, (_, k) => channel.submit({ n: start + k }, { route: 'work', timeout: (start + k) % 10 === 0 ? 0.02 : 5 })),
    );
    for (const r of results) {
      if (r.status === 'fulfilled') ok++;
      else if (r.reason instanceof ResponseTimeoutError) timedOut++;
    }
    peaks.push(channel.pendingCount + engine.pendingCount);
  }
  assert.equal(ok, 90_000);
  assert.equal(timedOut, 10_000);
  await waitFor(() => engine.pendingCount === 0, 5000, 'engine pending 0');
  assert.equal(channel.pendingCount, 0);
  // After each batch the only waiters left can be engine entries whose cancel is still on
  // the wire: bounded by one batch's never-answering requests, never growing with the run.
  assert.ok(Math.max(...peaks) <= batch / 10, `waiters after each batch stay bounded: max ${Math.max(...peaks)}`);
  assert.equal(channel.stats.timedOut, 10_000);
  assert.equal(engine.stats.cancelled, 10_000);
  await channel.stop();
  a.destroy();
  b.destroy();
  await new Promise<void>((r) => srv.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});
