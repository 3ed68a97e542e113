import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerBuilder, Queue, EngineError, type Server } from '../../src/index.js';
import { assertNoLeaks, resourcesNow, waitFor, json } from '../helpers.js';

let server: Server;
let base: string;
let baseline: string[];
const requestQ = new Queue<any>();
const responseQ = new Queue<any>();
const aborted = new Set<string>();
let generated = 0;

before(async () => {
  baseline = resourcesNow();
  server = new ServerBuilder('semantics')
    .withPort(0)
    .routes.withForward('/echo', {
      methods: ['POST'],
      handler: 'echo',
      schema: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string' }, n: { type: 'integer', minimum: 0 } } } },
    })
    .withForward('/items', { methods: ['POST'], handler: 'create', status: 201 })
    .withForward('/teapot', { handler: 'teapot' })
    .withForward('/boom', { handler: 'boom' })
    .withForward('/slow', { handler: 'wait', timeout: 0.3 })
    .withForward('/wait', { handler: 'wait' })
    .withForward('/stream', { handler: 'count', reply: 'sse' })
    .withForward('/endless', { handler: 'endless', reply: 'sse' })
    .withForward('/queued', { methods: ['POST'], handler: 'queued' })
    .withForward('/queued-stream', { handler: 'queued', reply: 'sse' })
    .done()
    .subprocess.withIpc(requestQ, responseQ)
    .withMaxPending(50)
    .done()
    .build();
  const e = server.engine;
  e.handle('echo', (req) => ({ text: req.body.text, n: req.body.n ?? 0 }));
  e.handle('create', (req) => ({ created: req.body }));
  e.handle('teapot', () => {
    throw new EngineError(418, 'I am a teapot', 'TEAPOT');
  });
  e.handle('boom', () => {
    throw new Error('connection string postgres://admin:hunter2@db');
  });
  e.handle('wait', (req, ctx) => new Promise((resolve) => {
    ctx.signal.addEventListener('abort', () => {
      aborted.add(req.id);
      resolve(null);
    });
  }));
  e.handle('count', async function* () {
    for (let i = 0; i < 16; i++) yield { i };
  });
  e.handle('endless', async function* (req, ctx) {
    try {
      for (let i = 0; ; i++) {
        generated = i;
        yield { i };
        await sleep(5);
        if (ctx.signal.aborted) return;
      }
    } finally {
      aborted.add(req.id);
    }
  });
  // Requests for 'queued' have no handler: they go to the request queue (the seed's style).
  void (async () => {
    for await (const req of requestQ) {
      if (req.path.startsWith('/queued-stream')) {
        for (let i = 0; i < 4; i++) await responseQ.put({ id: req.id, token: `tok${i}`, isFinal: i === 3 });
      } else {
        await responseQ.put({ id: req.id, upper: String(req.body.word).toUpperCase() });
      }
    }
  })();
  base = (await server.listen()).url;
});

after(async () => {
  await server.stop(2);
  requestQ.close();
  await assertNoLeaks(baseline);
});

afterEach(async () => {
  // Every waiter ends and is removed, on both sides of the pipe.
  await waitFor(() => server.engine.pendingCount === 0, 3000, 'engine pending to be 0');
  await waitFor(async () => ((await (await fetch(`${base}/_health`)).json()) as { ipc: { pending: number } }).ipc.pending === 0, 3000, 'web pending to be 0');
});

test('success: 200 with the engine result, or the route status', async () => {
  const r = await fetch(`${base}/echo`, json({ text: 'hi', n: 2 }));
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { text: 'hi', n: 2 });
  const c = await fetch(`${base}/items`, json({ name: 'x' }));
  assert.equal(c.status, 201);
  assert.deepEqual(await c.json(), { created: { name: 'x' } });
});

test('validation errors are 422 with the failing field path, before reaching the engine', async () => {
  const before = server.engine.stats.received;
  const r = await fetch(`${base}/echo`, json({ n: -1 }));
  assert.equal(r.status, 422);
  const body = (await r.json()) as { detail: { loc: string[] }[] };
  const locs = body.detail.map((d) => d.loc.join('.'));
  assert.ok(locs.includes('body.text'), locs.join());
  assert.ok(locs.includes('body.n'), locs.join());
  assert.equal(server.engine.stats.received, before);
});

test('engine errors map deterministically: explicit status kept, anything else a generic 500 without stack', async () => {
  const t = await fetch(`${base}/teapot`);
  assert.equal(t.status, 418);
  assert.deepEqual(await t.json(), { statusCode: 418, code: 'TEAPOT', error: 'Error', message: 'I am a teapot' });
  const b = await fetch(`${base}/boom`);
  assert.equal(b.status, 500);
  const text = await b.text();
  assert.ok(!text.includes('hunter2') && !text.includes('at ') && !text.includes('.ts'), text);
  assert.equal(JSON.parse(text).message, 'Internal Server Error');
});

test('no reply by the deadline: 504, waiter removed, cancel reaches the engine', async () => {
  const r = await fetch(`${base}/slow`);
  assert.equal(r.status, 504);
  assert.equal(((await r.json()) as { code: string }).code, 'APPINFRA_ERR_TIMEOUT');
  await waitFor(() => aborted.size > 0, 3000, 'engine signal to abort');
});

test('a client that disconnects mid-request cancels the engine work', async () => {
  aborted.clear();
  await new Promise<void>((resolve) => {
    const req = httpRequest(`${base}/wait`);
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 150);
  });
  await waitFor(() => aborted.size === 1, 3000, 'engine signal to abort after disconnect');
});

test('SSE: chunks arrive in order and the HTTP stream ends at the end of the engine stream', async () => {
  const r = await fetch(`${base}/stream`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
  const events = (await r.text()).split('\n\n').filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, '')));
  assert.deepEqual(events, Array.from({ length: 16 }, (_, i) => ({ i })));
});

test('queue style: requestQ / responseQ by id; a stream ends at the chunk with isFinal', async () => {
  const r = await fetch(`${base}/queued`, json({ word: 'quiet' }));
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { upper: string }).upper, 'QUIET');
  const s = await fetch(`${base}/queued-stream`);
  const chunks = (await s.text()).split('\n\n').filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, '')));
  assert.deepEqual(chunks.map((c) => c.token), ['tok0', 'tok1', 'tok2', 'tok3']);
  assert.equal(chunks[3].isFinal, true);
});

test('a client that disconnects mid-stream cancels the engine stream', async () => {
  aborted.clear();
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${base}/endless`, (res) => {
      let n = 0;
      res.on('data', () => {
        if (++n === 3) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', (e) => (String(e).includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
  await waitFor(() => aborted.size === 1, 3000, 'engine generator to be closed');
  const at = generated;
  await sleep(100);
  assert.equal(generated, at, 'the generator kept producing after the client left');
});

test('a reply put for an unknown id is dropped and counted', async () => {
  const before = server.engine.stats.dropped;
  await responseQ.put({ id: 'no-such-request', x: 1 });
  assert.equal(server.engine.stats.dropped, before + 1);
  const r = await fetch(`${base}/echo`, json({ text: 'still fine' }));
  assert.equal(r.status, 200);
});
