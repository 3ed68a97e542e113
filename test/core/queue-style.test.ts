/**
 * Issue 15, item 6: in queue style the client sees what the README promises. A real web
 * process (subprocess mode) in front of this process's requestQ / responseQ loop; every
 * shape of a put on responseQ is checked over real HTTP, for a JSON reply and for an SSE
 * stream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, EngineError, type Server, type ForwardRequest } from '../../src/index.js';
import { assertNoLeaks, resourcesNow, json } from '../helpers.js';

let server: Server;
let base: string;
let baseline: string[];
const requestQ = new Queue<ForwardRequest>();
const responseQ = new Queue<unknown>();

/** What the engine loop puts for each POST /wrapped `{ shape }`. */
const SHAPES: Record<string, (id: string) => unknown> = {
  'result-object': (id) => ({ id, result: { echo: 'hi', n: 1 } }),
  'result-array': (id) => ({ id, result: [1, 'two'] }),
  'result-number': (id) => ({ id, result: 42 }),
  'result-null': (id) => ({ id, result: null }),
  'error-engine': (id) => ({ id, error: new EngineError(409, 'That name is taken', 'TAKEN') }),
  'error-other': (id) => ({ id, error: 'db password hunter2 rejected' }),
  'error-instance': (id) => Object.assign(new EngineError(422, 'Nothing to do', 'EMPTY'), { id }),
  flat: (id) => ({ id, upper: 'QUIET' }),
  'result-among-fields': (id) => ({ id, status: 'ok', result: 'r' }),
};

/** What the engine loop puts, in order, for each GET /stream/{kind}. */
const STREAMS: Record<string, (id: string) => unknown[]> = {
  wrapped: (id) => [0, 1, 2].map((i) => ({ id, result: { token: `t${i}` }, isFinal: i === 2 })),
  'end-marker': (id) => [{ id, result: 'a' }, { id, result: 'b' }, { id, isFinal: true }],
  error: (id) => [{ id, result: 'a' }, { id, error: new EngineError(503, 'The model was unloaded', 'UNLOADED') }],
  flat: (id) => [0, 1].map((i) => ({ id, token: `t${i}`, isFinal: i === 1 })),
};

before(async () => {
  baseline = resourcesNow();
  server = new ServerBuilder('queue-style')
    .withPort(0)
    .routes.withForward('/wrapped', { methods: ['POST'] })
    .withForward('/stream/{kind}', { reply: 'sse' })
    .done()
    .subprocess.withIpc(requestQ, responseQ)
    .done()
    .uvicorn.withLogLevel('critical')
    .done()
    .build();
  void (async () => {
    for await (const request of requestQ) {
      if (request.path.startsWith('/stream/')) {
        for (const item of STREAMS[request.params.kind!]!(request.id)) await responseQ.put(item);
      } else {
        await responseQ.put(SHAPES[(request.body as { shape: string }).shape]!(request.id));
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

async function post(shape: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${base}/wrapped`, json({ shape }));
  return { status: r.status, body: await r.json() };
}

async function events(kind: string): Promise<string[]> {
  const r = await fetch(`${base}/stream/${kind}`);
  assert.equal(r.status, 200);
  return (await r.text()).split('\n\n').filter(Boolean);
}

test('{ id, result }: the client gets the result, not the wrapper; any other object is the answer as put', async () => {
  assert.deepEqual(await post('result-object'), { status: 200, body: { echo: 'hi', n: 1 } });
  assert.deepEqual(await post('result-array'), { status: 200, body: [1, 'two'] });
  assert.deepEqual(await post('result-number'), { status: 200, body: 42 });
  assert.deepEqual(await post('result-null'), { status: 200, body: null });
});

test('{ id, error }: the request fails; an EngineError keeps its status, anything else is a generic 500', async () => {
  assert.deepEqual(await post('error-engine'), { status: 409, body: { statusCode: 409, code: 'TAKEN', error: 'Conflict', message: 'That name is taken' } });
  const other = await post('error-other');
  assert.equal(other.status, 500);
  assert.equal((other.body as { message: string }).message, 'Internal Server Error');
  assert.ok(!JSON.stringify(other.body).includes('hunter2'));
  assert.equal((await post('error-instance')).status, 422);
});

test('a stream of { id, result, isFinal }: each event is the result; the final one is the last', async () => {
  assert.deepEqual(await events('wrapped'), ['data: {"token":"t0"}', 'data: {"token":"t1"}', 'data: {"token":"t2"}']);
  // Plain objects are sent as put, isFinal included.
  const e = (await events('flat')).map((x) => JSON.parse(x.replace(/^data: /, '')) as { token: string; isFinal: boolean });
  assert.deepEqual(e.map((c) => [c.token, c.isFinal]), [['t0', false], ['t1', true]]);
});

test('{ id, isFinal: true } ends a stream with no further event', async () => {
  assert.deepEqual(await events('end-marker'), ['data: "a"', 'data: "b"']);
});

test('{ id, error } mid-stream ends it with the error event', async () => {
  const e = await events('error');
  assert.equal(e[0], 'data: "a"');
  assert.equal(e.length, 2, e.join('|'));
  assert.equal(e[1], `event: error\ndata: ${JSON.stringify({ statusCode: 503, code: 'UNLOADED', message: 'The model was unloaded' })}`);
});
