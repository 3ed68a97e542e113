import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Queue, ServerBuilder, type Server } from '../../src/index.js';
import { guardLeaks } from '../helpers.js';

// Subprocess mode hands a forward route's JSON body to the engine as the client's text (no
// body schema) and the engine parses it; direct mode parses it in Fastify. A client must
// not be able to tell them apart, whatever it sends.
const servers: Record<'direct' | 'subprocess', { server: Server; url: string }> = {} as never;

guardLeaks({ cleanup: () => Promise.all(Object.values(servers).map((s) => s.server.stop(2))) });

function build(name: string, subprocess: boolean): Server {
  let b = new ServerBuilder(name)
    .withPort(0)
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/typed', { methods: ['POST'], handler: 'echo', schema: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } } })
    .done();
  if (subprocess) b = b.subprocess.withIpc(new Queue(), new Queue()).done();
  const server = b.build();
  // What the handler saw: the whole request, so a body that tried to overwrite its other fields would show.
  server.engine.handle('echo', (req) => ({ method: req.method, path: req.path, query: req.query, idIsOwn: typeof req.id === 'string' && !req.id.startsWith('x'), body: req.body }));
  return server;
}

before(async () => {
  for (const mode of ['direct', 'subprocess'] as const) {
    const server = build(`raw-${mode}`, mode === 'subprocess');
    servers[mode] = { server, url: (await server.listen()).url };
  }
  // The two really differ: one web process of its own, and none.
  assert.equal(servers.subprocess.server.processes.length, 1);
  assert.equal(servers.direct.server.processes.length, 0);
});

async function post(mode: 'direct' | 'subprocess', path: string, body: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(servers[mode].url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, body: await r.json() };
}

const BODIES = [
  '{"a":1}',
  ' {"nested":{"list":[1,2.5,"x",null,true]}} ',
  '"a string"',
  '[1,2]',
  'null',
  '{"text":"é 😀 \\u0000"}',
  '{"a":',
  'not json',
  '{"a":1} {"b":2}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  // An attempt to write the request's other fields from inside its body.
  '{"a":1},"method":"DELETE","id":"x1"',
  '1,"path":"/admin"',
];

test('a forward route answers every body the same in subprocess mode (engine parses) as in direct mode (Fastify parses)', async () => {
  for (const body of BODIES) {
    const [direct, sub] = [await post('direct', '/echo?q=1', body), await post('subprocess', '/echo?q=1', body)];
    assert.deepEqual(sub, direct, `body ${JSON.stringify(body)}`);
  }
  const injected = await post('subprocess', '/echo', '{"a":1},"method":"DELETE","id":"x1"');
  assert.equal(injected.status, 400);
  assert.equal((injected.body as { code: string }).code, 'FST_ERR_CTP_INVALID_JSON_BODY');
  const proto = await post('subprocess', '/echo', '{"__proto__":{"polluted":true}}');
  assert.equal(proto.status, 400);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const ok = await post('subprocess', '/echo?q=1', '{"a":1}');
  assert.deepEqual(ok, { status: 200, body: { method: 'POST', path: '/echo?q=1', query: { q: '1' }, idIsOwn: true, body: { a: 1 } } });
});

test('an empty JSON body is refused by the web process, as Fastify refuses it', async () => {
  const sub = await post('subprocess', '/echo', '');
  assert.equal(sub.status, 400);
  assert.equal((sub.body as { code: string }).code, 'FST_ERR_CTP_EMPTY_JSON_BODY');
  assert.deepEqual(await post('direct', '/echo', ''), sub);
});

test('a route with a body schema still validates in the web process: 422 with the field path', async () => {
  const sub = await post('subprocess', '/typed', '{"other":1}');
  assert.equal(sub.status, 422);
  assert.match(JSON.stringify(sub.body), /"text"/);
  assert.deepEqual(await post('direct', '/typed', '{"other":1}'), sub);
  assert.equal((await post('subprocess', '/typed', '{"text":"hi"}')).status, 200);
});

test('property: any JSON value sent as a body gets the same answer in both modes, and when accepted reaches the handler as that value', async () => {
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (value) => {
      const text = JSON.stringify(value);
      const [sub, direct] = [await post('subprocess', '/echo', text), await post('direct', '/echo', text)];
      assert.deepEqual(sub, direct);
      // Refused only for a prototype key, as Fastify refuses it.
      if (/"(__proto__|constructor)"/.test(text)) return;
      assert.equal(sub.status, 200);
      assert.deepEqual((sub.body as { body: unknown }).body, JSON.parse(text));
    }),
    { numRuns: 60 },
  );
});
