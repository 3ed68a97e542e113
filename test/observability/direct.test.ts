import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Gauge } from 'prom-client';
import { ServerBuilder, type Server } from '../../src/index.js';
import { guardLeaks, json } from '../helpers.js';
import { scrape, total } from './prom-text.js';

let server: Server;
let base: string;
let release: (() => void) | undefined;
const engineLines: Record<string, unknown>[] = [];
guardLeaks({
  cleanup: () => {
    release?.();
    return server?.stop(2);
  },
});

before(async () => {
  server = new ServerBuilder('direct-metrics')
    .withPort(0)
    .withMetrics({ path: '/prom' })
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/hold', { handler: 'hold' })
    .done()
    .subprocess.withMaxPending(1)
    .done()
    .build();
  // ctx.log is a child of the engine's logger: capture what it writes.
  const sink = new Writable({
    write(chunk, _enc, cb) {
      engineLines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  (server.engine as { logger: unknown }).logger = pino({ level: 'info' }, sink);
  // Another subsystem's figures, through the hook process groups and backbones use.
  server.addMetrics((registry) => new Gauge({ name: 'appinfra_group_members', help: 'test', registers: [registry], collect() { this.set(3); } }));
  server.engine.handle('echo', (req, ctx) => {
    ctx.log.info({ seen: req.body.n }, 'echo handler');
    return req.body;
  });
  server.engine.handle('hold', () => new Promise<string>((resolve) => (release = () => resolve('done'))));
  base = (await server.listen()).url;
});

test('direct mode: one registry holds the web side and the engine; the path is configurable', async () => {
  assert.equal((await fetch(`${base}/metrics`)).status, 404);
  for (let i = 0; i < 7; i++) assert.equal((await fetch(`${base}/echo`, json({ n: i }))).status, 200);
  const s = await scrape(`${base}/prom`);
  assert.equal(total(s, 'appinfra_http_requests_total', { route: '/echo', method: 'POST', status: '200' }), 7);
  assert.equal(total(s, 'appinfra_engine_handler_seconds_count', { route: 'echo' }), 7);
  assert.deepEqual([...new Set(s.filter((x) => x.name === 'appinfra_event_loop_lag_seconds').map((x) => x.labels.process))], ['direct']);
  assert.equal(total(s, 'appinfra_group_members'), 3, 'figures added with server.addMetrics');
});

test('admission rejections are counted by reason; pending and in flight show a held request', async () => {
  const held = fetch(`${base}/hold`);
  // The one pending slot is taken: the next request is refused with 503.
  let refused = 0;
  for (let i = 0; i < 50 && refused === 0; i++) {
    const r = await fetch(`${base}/hold`);
    await r.text();
    if (r.status === 503) refused++;
  }
  assert.equal(refused, 1);
  const s = await scrape(`${base}/prom`);
  assert.equal(total(s, 'appinfra_admission_rejections_total', { reason: 'overloaded' }), 1);
  assert.equal(total(s, 'appinfra_ipc_pending'), 1);
  assert.equal(total(s, 'appinfra_engine_pending'), 1);
  assert.ok(total(s, 'appinfra_http_requests_in_flight') >= 2, 'the held request and the scrape itself');
  release!();
  assert.equal((await held).status, 200);
});

test('ctx.log is a pino child bound to the correlation id the web side assigned', async () => {
  const r = await fetch(`${base}/echo`, { ...json({ n: 99 }), headers: { 'content-type': 'application/json', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } });
  assert.equal(r.status, 200);
  const line = engineLines.find((l) => l.seen === 99);
  assert.ok(line, 'the handler logged');
  assert.match(String(line.reqId), /^direct\.[0-9a-f]{8}\.[0-9a-z]+$/);
  assert.equal(line.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(line.msg, 'echo handler');
  // No SDK registered: no span, no hook, no trace headers.
  assert.equal(r.headers.get('traceresponse'), null);
});

test('a refusal by uvicorn.limitConcurrency is counted with reason "concurrency"', async () => {
  const releases: (() => void)[] = [];
  const limited = new ServerBuilder('limited')
    .withPort(0)
    .withMetrics()
    .routes.withForward('/hold', { handler: 'hold' })
    .done()
    .uvicorn.withLimitConcurrency(2)
    .done()
    .build();
  limited.engine.handle('hold', () => new Promise<string>((resolve) => releases.push(() => resolve('done'))));
  const url = (await limited.listen()).url;
  try {
    const held = [fetch(`${url}/hold`), fetch(`${url}/hold`)];
    while (releases.length < 2) await new Promise((r) => setTimeout(r, 10));
    const refused = await fetch(`${url}/hold`);
    assert.equal(refused.status, 503);
    await refused.text();
    for (const r of releases) r();
    for (const h of held) assert.equal((await h).status, 200);
    const s = await scrape(`${url}/metrics`);
    assert.equal(total(s, 'appinfra_admission_rejections_total', { reason: 'concurrency' }), 1);
  } finally {
    for (const r of releases) r();
    await limited.stop(2);
  }
});
