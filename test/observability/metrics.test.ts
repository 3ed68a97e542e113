import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ServerBuilder, Queue, EngineError, type Server } from '../../src/index.js';
import { guardLeaks } from '../helpers.js';
import { has, scrape, total } from './prom-text.js';

let server: Server;
let base: string;
guardLeaks({ cleanup: () => server?.stop(2) });

before(async () => {
  server = new ServerBuilder('metrics')
    .withPort(0)
    .withMetrics()
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/boom', { handler: 'boom' })
    .withForward('/count', { handler: 'count', reply: 'sse' })
    .withForward('/block', { handler: 'block' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .done()
    .uvicorn.withWorkers(2)
    .done()
    .build();
  server.engine.handle('echo', (req) => req.body);
  server.engine.handle('boom', () => {
    throw new EngineError(502, 'upstream down', 'UPSTREAM');
  });
  server.engine.handle('count', async function* () {
    for (let i = 0; i < 5; i++) yield { i };
  });
  server.engine.handle('block', () => {
    // A handler that blocks the engine's event loop, as a long synchronous computation does.
    const end = performance.now() + 500;
    while (performance.now() < end);
    return 'done';
  });
  base = (await server.listen()).url;
});

/** One request on a connection of its own, so the cluster spreads them over both workers. */
function post(path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(`${base}${path}`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test('one scrape covers both workers and the engine; counters move by exactly the requests sent', async () => {
  const before = await scrape(`${base}/metrics`);
  const echo = { route: '/echo', method: 'POST', status: '200' };
  const start = total(before, 'appinfra_http_requests_total', echo);
  const N = 40;
  for (let i = 0; i < N; i++) assert.equal(await post('/echo', { i }), 200);
  const r = await fetch(`${base}/boom`);
  assert.equal(r.status, 502);
  await r.text();
  const sse = await fetch(`${base}/count`);
  await sse.text();

  const s = await scrape(`${base}/metrics`);
  assert.equal(total(s, 'appinfra_http_requests_total', echo) - start, N);
  assert.equal(total(s, 'appinfra_http_requests_total', { route: '/boom', status: '502' }), 1);
  assert.equal(total(s, 'appinfra_http_request_duration_seconds_count', { route: '/echo' }) - total(before, 'appinfra_http_request_duration_seconds_count', { route: '/echo' }), N);
  // Each worker's share, and the two add up to what was sent.
  const shares = s.filter((x) => x.name === 'appinfra_web_responses_total');
  assert.equal(shares.length, 2, 'one series per web worker');
  assert.ok(shares.every((x) => x.value > 0), `both workers served: ${JSON.stringify(shares)}`);
  assert.equal(total(s, 'appinfra_web_responses_total'), total(s, 'appinfra_http_requests_total'));
  // The engine's side of the same requests.
  assert.equal(total(s, 'appinfra_engine_handler_seconds_count', { route: 'echo' }), N);
  assert.equal(total(s, 'appinfra_engine_queue_wait_seconds_count', { route: 'echo' }), N);
  assert.equal(total(s, 'appinfra_engine_handler_seconds_count', { route: 'boom', outcome: 'failed' }), 1);
  assert.equal(total(s, 'appinfra_stream_chunks_total'), 5);
  assert.equal(total(s, 'appinfra_streams_open'), 0);
  assert.equal(total(s, 'appinfra_web_workers_up'), 2);
  assert.equal(total(s, 'appinfra_ipc_max_pending'), 200, 'maxPending of each worker');
  // Event-loop lag of each process, labelled by process.
  const lagProcesses = new Set(s.filter((x) => x.name === 'appinfra_event_loop_lag_seconds').map((x) => x.labels.process));
  assert.equal(lagProcesses.size, 3, `engine and two workers: ${[...lagProcesses].join(', ')}`);
  assert.ok(lagProcesses.has('engine'));
  assert.ok(has(s, 'appinfra_web_restarts_total'));
});

test('the engine\'s blocked event loop shows in its lag, the web processes\' does not', async () => {
  // The engine runs in this (the test's) process: the block stalls this loop too, not the web processes'.
  assert.equal((await fetch(`${base}/block`)).status, 200);
  const s = await scrape(`${base}/metrics`);
  const engineMax = total(s, 'appinfra_event_loop_lag_seconds', { process: 'engine', quantile: '1' });
  assert.ok(engineMax >= 0.4, `engine lag max ${engineMax}s after a 500 ms block`);
  const webMax = Math.max(...s.filter((x) => x.name === 'appinfra_event_loop_lag_seconds' && x.labels.process !== 'engine' && x.labels.quantile === '1').map((x) => x.value));
  assert.ok(webMax < engineMax, `web processes' lag (${webMax}s) stays below the engine's (${engineMax}s)`);
});
