import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, ticks } from '../../examples/protocols/all-in-one.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';
import { FrameSocket, GraphQLSocket, postJson, readSse } from './clients.js';

let baseline: string[];
let url: string;
let close: () => Promise<void>;
/** Protocols the engine saw, per request: the handler is the same function for all of them. */
const seen: { path: string; port: string; body: unknown }[] = [];

before(async () => {
  baseline = resourcesNow();
  const made = createServer(0);
  close = made.close;
  // Wrap the example's handler only to observe what reaches the engine; the handler itself is unchanged.
  made.server.engine.handle('ticks', (req, ctx) => {
    seen.push({ path: req.path, port: ctx.port, body: req.body });
    return ticks(req, ctx);
  });
  ({ url } = await made.server.listen());
  assert.equal(made.server.isSubprocessMode, true);
  assert.equal(made.server.processes.length, 1, 'the web server runs in a child process');
});

after(async () => {
  await close();
  await assertNoLeaks(baseline);
});

const expected = [0, 1, 2].map((i) => ({ label: 'x', i }));

test('HTTP JSON: the handler\'s chunks come back as one array', async () => {
  const res = await fetch(`${url}/ticks`, postJson({ count: 3, label: 'x' }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), expected);
});

test('SSE: the same handler streams each chunk as an event', async () => {
  const res = await fetch(`${url}/ticks/stream`, postJson({ count: 3, label: 'x' }));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const { data, errors } = await readSse(res);
  assert.deepEqual(data, expected);
  assert.deepEqual(errors, []);
});

test('WebSocket: the same handler, chunks as frames, then an end frame', async () => {
  const ws = await FrameSocket.open(`${url}/ticks/ws`);
  try {
    ws.send({ id: 'a', data: { count: 3, label: 'x' } });
    const frames = await ws.ended('a');
    assert.deepEqual(frames, [...expected.map((data) => ({ type: 'chunk', id: 'a', data })), { type: 'end', id: 'a' }]);
  } finally {
    await ws.close();
  }
});

test('GraphQL query: the same handler resolves a field, arguments as the body', async () => {
  const res = await fetch(`${url}/graphql`, postJson({ query: '{ ticks(count: 3, label: "x") { label i } }' }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { data: { ticks: expected } });
});

test('GraphQL subscription over WebSocket: the same handler, one event per chunk', async () => {
  const gql = await GraphQLSocket.open(`${url}/graphql`);
  try {
    gql.subscribe('s1', 'subscription { ticks(count: 3, label: "x") { label i } }');
    const frames = await gql.completed('s1');
    assert.equal(frames.at(-1)?.type, 'complete');
    assert.deepEqual(gql.events('s1'), expected.map((t) => ({ data: { ticks: t } })));
  } finally {
    await gql.close();
  }
});

test('the engine saw every protocol as the same request shape, on the request or stream port', () => {
  const ports = new Set(seen.map((s) => s.port));
  assert.ok(ports.has('request') && ports.has('stream'), `ports seen: ${[...ports].join(', ')}`);
  for (const s of seen) assert.deepEqual(s.body, { count: 3, label: 'x' });
  assert.ok(seen.length >= 5, `one request per protocol, saw ${seen.length}`);
});
