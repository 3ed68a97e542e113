/**
 * Auth and size limits at the adapter boundary, in a web process (subprocess mode): the
 * same policy for HTTP JSON, SSE, a WebSocket's upgrade and GraphQL, refused before the
 * engine sees anything; keys from a file or the environment, never from argv.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { guardLeaks } from '../helpers.js';

const tmp = guardLeaks({ tmp: 'appinfra-auth-', cleanup: () => server?.stop(1) });
let server: Server;
let url: string;
const reached: string[] = [];
const KEY = 'k-3f9a1c2e7d';
const ADMIN = 'k-admin-88b2';
const CHECK = new URL('./fixtures/deny-header.ts', import.meta.url).href;

async function* countdown(): AsyncGenerator<{ n: number }> {
  for (let n = 2; n > 0; n--) yield { n };
}

before(async () => {
  const keys = join(tmp, 'keys.txt');
  writeFileSync(keys, `# service keys\n${KEY} read\n${ADMIN} read admin\n`);
  process.env.APPINFRA_TEST_KEYS = 'k-env-1; k-env-2 read';
  server = new ServerBuilder('guarded')
    .withPort(0)
    .withAuth({ file: keys, env: 'APPINFRA_TEST_KEYS', check: CHECK })
    .withMaxPayloadBytes(2048)
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/big', { methods: ['POST'], handler: 'echo', maxPayloadBytes: 64 * 1024 })
    .withForward('/admin', { handler: 'echo', auth: { scopes: ['admin'] } })
    .withForward('/public', { handler: 'echo', auth: false })
    .withForward('/events', { methods: ['POST'], handler: 'countdown', reply: 'sse' })
    .withWebSocket('/ws', { handler: 'countdown' })
    .withForward('/ws-big', { handler: 'countdown', reply: 'websocket', maxPayloadBytes: 16 * 1024 })
    .withGraphQL({ schema: 'type Query { hello(name: String): String }', resolvers: { Query: { hello: 'hello' } } })
    .done()
    .uvicorn.withLogLevel('debug')
    .withAccessLog(true)
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .withLogFile(join(tmp, 'web.log'))
    .done()
    .build();
  server.engine.handle('echo', async (req: { path: string; body: unknown }) => {
    reached.push(req.path);
    return { body: req.body ?? null };
  });
  server.engine.handle('countdown', countdown);
  server.engine.handle('hello', async (req: { body: { name?: string } }) => `hello ${req.body.name ?? 'you'}`);
  ({ url } = await server.listen());
});

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

test('no key: 401 with WWW-Authenticate; a wrong key: 403; a key from the file or the environment: served', async () => {
  reached.length = 0;
  const none = await fetch(`${url}/echo`, post('{}'));
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="appinfra"');
  assert.equal(((await none.json()) as { code: string }).code, 'UNAUTHORIZED');
  const wrong = await fetch(`${url}/echo`, post('{}', bearer('k-3f9a1c2e7e')));
  assert.equal(wrong.status, 403);
  assert.equal(((await wrong.json()) as { code: string }).code, 'FORBIDDEN');
  assert.equal((await fetch(`${url}/echo`, post('{"a":1}', { authorization: 'Basic eDp5' }))).status, 401);
  assert.deepEqual(reached, [], 'nothing refused reached the engine');
  for (const key of [KEY, 'k-env-1', 'k-env-2']) {
    const ok = await fetch(`${url}/echo`, post('{"a":1}', bearer(key)));
    assert.equal(ok.status, 200, key);
    assert.deepEqual(await ok.json(), { body: { a: 1 } });
  }
});

test('per route: opt-out, scopes, and /_health answers without a key', async () => {
  assert.equal((await fetch(`${url}/public`)).status, 200);
  assert.equal((await fetch(`${url}/_health`)).status, 200);
  const lacking = await fetch(`${url}/admin`, { headers: bearer(KEY) });
  assert.equal(lacking.status, 403);
  assert.match(((await lacking.json()) as { message: string }).message, /lacks the scope admin/);
  assert.equal((await fetch(`${url}/admin`, { headers: bearer(ADMIN) })).status, 200);
});

test("the user's own check (a module the web process imports) can refuse a matched key", async () => {
  const denied = await fetch(`${url}/echo`, post('{}', { ...bearer(KEY), 'x-deny': '1' }));
  assert.equal(denied.status, 403);
});

test('SSE, WebSocket upgrade and GraphQL get the same policy', async () => {
  assert.equal((await fetch(`${url}/events`, post('{}'))).status, 401);
  const sse = await fetch(`${url}/events`, post('{}', bearer(KEY)));
  assert.equal(sse.status, 200);
  assert.match(await sse.text(), /"n":1/);

  const refused = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error('upgrade without a key was accepted')));
    ws.on('error', () => undefined);
  });
  assert.equal(refused, 401);
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers: bearer(KEY) });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  ws.close();

  const query = JSON.stringify({ query: '{ hello(name: "x") }' });
  assert.equal((await fetch(`${url}/graphql`, post(query))).status, 401);
  const gql = await fetch(`${url}/graphql`, post(query, bearer(KEY)));
  assert.equal(gql.status, 200);
  assert.deepEqual(await gql.json(), { data: { hello: 'hello x' } });
});

test('max_payload_bytes: 413 before the engine, per route larger; GraphQL bodies too', async () => {
  reached.length = 0;
  const big = JSON.stringify({ s: 'x'.repeat(4000) });
  const refused = await fetch(`${url}/echo`, post(big, bearer(KEY)));
  assert.equal(refused.status, 413);
  const body = (await refused.json()) as { code: string; message: string };
  assert.equal(body.code, 'PAYLOAD_TOO_LARGE');
  assert.match(body.message, /2048 bytes/);
  assert.deepEqual(reached, []);
  assert.equal((await fetch(`${url}/big`, post(big, bearer(KEY)))).status, 200);
  const hugeQuery = JSON.stringify({ query: `{ hello(name: "${'y'.repeat(4000)}") }` });
  assert.equal((await fetch(`${url}/graphql`, post(hugeQuery, bearer(KEY)))).status, 413);
});

test('a WebSocket message over the limit closes the socket with 1009', async () => {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers: bearer(KEY) });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.send(JSON.stringify({ data: 'z'.repeat(5000) }));
  assert.equal(await closed, 1009);

  // A route with a larger bound of its own takes the same message, and closes above its bound.
  const big = new WebSocket(`${url.replace('http', 'ws')}/ws-big`, { headers: bearer(KEY) });
  await new Promise((resolve, reject) => (big.once('open', resolve), big.once('error', reject)));
  const frames: string[] = [];
  const ended = new Promise<void>((resolve) => big.on('message', (m) => (frames.push(m.toString()), /"end"/.test(m.toString()) && resolve())));
  big.send(JSON.stringify({ id: 'a', data: { pad: 'z'.repeat(5000) } }));
  await ended;
  assert.ok(frames.some((f) => f.includes('"chunk"')));
  const bigClosed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
  big.send(JSON.stringify({ data: 'z'.repeat(20_000) }));
  assert.equal(await bigClosed, 1009);
});

test('the keys never reach argv or the log (debug level, access log on)', () => {
  for (const pid of server.processes.map((p) => p.pid!)) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    assert.ok(!argv.includes(KEY) && !argv.includes('k-env-1'));
  }
  const log = readFileSync(join(tmp, 'web.log'), 'utf8');
  assert.match(log, /\/echo/, 'the log has the requests');
  for (const secret of [KEY, ADMIN, 'k-env-1', 'k-env-2', 'k-3f9a1c2e7e']) assert.ok(!log.includes(secret), `${secret} is in the log`);
});
