/**
 * What a client sees at the HTTP edge, the same in direct and subprocess mode and for
 * forward, inline and route-module routes: which body values are converted (lax, as
 * FastAPI/pydantic) and which are refused, strict routes that convert nothing, 405 with
 * `Allow` for a known path with the wrong method, 415 for a text body on a JSON route.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';

const genBody = {
  type: 'object',
  required: ['prompt'],
  properties: {
    prompt: { type: 'string' },
    max_tokens: { type: 'integer', minimum: 1 },
    temperature: { type: 'number' },
    stream: { type: 'boolean' },
    stop: { type: 'array', items: { type: 'string' } },
    user: { type: ['string', 'null'] },
  },
};
const query = { type: 'object', properties: { limit: { type: 'integer' }, flag: { type: 'boolean' } } };
const MODULE = new URL('../fixtures/foundation/validation-module.ts', import.meta.url);

function build(subprocess: boolean): Server {
  let b = new ServerBuilder('semantics')
    .withPort(0)
    .routes.withForward('/gen', { methods: ['POST'], handler: 'echo', schema: { body: genBody } })
    .withForward('/gen-strict', { methods: ['POST'], handler: 'echo', schema: { body: genBody }, strict: true })
    .withForward('/q', { handler: 'echo', schema: { querystring: query } })
    .withForward('/q-strict', { handler: 'echo', schema: { querystring: query }, strict: true })
    .withForward('/items/{id}', { methods: ['GET', 'PUT'], handler: 'echo' })
    .fromModule(MODULE, { prefix: '/mod' })
    .done();
  if (subprocess) b = b.subprocess.withIpc(new Queue<any>(), new Queue<any>()).done();
  const server = b.build();
  server.engine.handle('echo', (req: any) => ({ body: req.body ?? null, query: req.query }));
  return server;
}

let baseline: string[];
const servers: Record<string, { server: Server; url: string }> = {};
before(async () => {
  baseline = resourcesNow();
  for (const subprocess of [false, true]) {
    const server = build(subprocess);
    const { url } = await server.listen();
    servers[subprocess ? 'subprocess' : 'direct'] = { server, url };
  }
});
after(async () => {
  for (const { server } of Object.values(servers)) await server.stop(1);
  await assertNoLeaks(baseline);
});

async function post(url: string, body: unknown, type = 'application/json'): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function locs(body: any): string[] {
  return (body.detail ?? []).map((d: { loc: unknown[] }) => d.loc.join('.'));
}

for (const mode of ['direct', 'subprocess']) {
  test(`${mode}: lax body: numeric strings become numbers, "true" a boolean; nothing becomes a string`, async () => {
    const { url } = servers[mode]!;
    const ok = await post(`${url}/gen`, { prompt: 'hi', max_tokens: '3', temperature: '0.5', stream: 'true' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.body, { prompt: 'hi', max_tokens: 3, temperature: 0.5, stream: true });

    // A number is not a string (pydantic refuses it too): 422 naming the field.
    const num = await post(`${url}/gen`, { prompt: 12345 });
    assert.equal(num.status, 422);
    assert.deepEqual(locs(num.body), ['body.prompt']);
    assert.equal(num.body.code, 'VALIDATION_ERROR');

    // Nor are these silently converted: null to 0, a boolean to a string, a string to [string], "abc" to a number.
    for (const [field, value] of [['max_tokens', null], ['user', true], ['stop', 'END'], ['max_tokens', 'abc'], ['max_tokens', '2.5'], ['stream', 'yes']] as const) {
      const r = await post(`${url}/gen`, { prompt: 'hi', [field]: value });
      assert.equal(r.status, 422, `${field}: ${JSON.stringify(value)} gave ${r.status} ${JSON.stringify(r.body)}`);
      assert.deepEqual(locs(r.body), [`body.${field}`]);
    }
    // The converted value is validated too.
    const low = await post(`${url}/gen`, { prompt: 'hi', max_tokens: '0' });
    assert.equal(low.status, 422);
    assert.deepEqual(locs(low.body), ['body.max_tokens']);
    // null where the schema allows it stays null.
    const nul = await post(`${url}/gen`, { prompt: 'hi', user: null });
    assert.deepEqual([nul.status, nul.body.body.user], [200, null]);
  });

  test(`${mode}: a strict route converts nothing in the body; query strings are still converted`, async () => {
    const { url } = servers[mode]!;
    const r = await post(`${url}/gen-strict`, { prompt: 'hi', max_tokens: '3', stream: 'true' });
    assert.equal(r.status, 422);
    assert.deepEqual(locs(r.body).sort(), ['body.max_tokens', 'body.stream']);
    const ok = await post(`${url}/gen-strict`, { prompt: 'hi', max_tokens: 3, stream: true });
    assert.deepEqual([ok.status, ok.body.body], [200, { prompt: 'hi', max_tokens: 3, stream: true }]);
    for (const path of ['/q', '/q-strict']) {
      const q = (await (await fetch(`${url}${path}?limit=5&flag=true`)).json()) as any;
      assert.deepEqual(q.query, { limit: 5, flag: true }, path);
    }
  });

  test(`${mode}: route modules: lax by default, strict with config.strict`, async () => {
    const { url } = servers[mode]!;
    const lax = await post(`${url}/mod/lax`, { n: '3' });
    assert.deepEqual([lax.status, lax.body.body], [200, { n: 3 }]);
    assert.deepEqual(locs((await post(`${url}/mod/lax`, { s: 5 })).body), ['body.s']);
    const strict = await post(`${url}/mod/strict`, { n: '3' });
    assert.deepEqual([strict.status, locs(strict.body)], [422, ['body.n']]);
  });

  test(`${mode}: a known path with the wrong method is 405 with Allow; an unknown path stays 404`, async () => {
    const { url } = servers[mode]!;
    for (const [method, path, allow] of [
      ['GET', '/gen', 'POST'],
      ['DELETE', '/items/7', 'GET, HEAD, PUT'],
      ['GET', '/mod/strict', 'POST'],
    ] as const) {
      const res = await fetch(`${url}${path}?x=1`, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), allow);
      assert.deepEqual(await res.json(), {
        statusCode: 405,
        code: 'METHOD_NOT_ALLOWED',
        error: 'Method Not Allowed',
        message: `Route ${path} does not allow ${method}; it allows ${allow}`,
      });
    }
    const missing = await fetch(`${url}/nope`, { method: 'DELETE' });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('allow'), null);
    assert.equal(((await missing.json()) as any).code, 'NOT_FOUND');
  });

  test(`${mode}: a text/plain body on a JSON route is 415, as a form-encoded one is`, async () => {
    const { url } = servers[mode]!;
    for (const path of ['/gen', '/mod/lax']) {
      for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded']) {
        const r = await post(`${url}${path}`, type.startsWith('text') ? '{"prompt":"hi"}' : 'prompt=hi', type);
        assert.equal(r.status, 415, `${path} ${type}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'UNSUPPORTED_MEDIA_TYPE');
        assert.match(r.body.message, /application\/json/);
      }
    }
    // JSON of the wrong shape is still a validation error.
    const wrong = await post(`${url}/gen`, '"just a string"');
    assert.equal(wrong.status, 422);
  });
}

test('direct mode inline routes: strict per route, withStrictValidation() as the default, a route may opt out', async () => {
  const body = { type: 'object', properties: { n: { type: 'integer' } } };
  const echo = async (req: { body: unknown }) => ({ body: req.body });
  const server = new ServerBuilder('inline')
    .withPort(0)
    .routes.withRoute('/lax', echo, { methods: ['POST'], schema: { body } })
    .withRoute('/strict', echo, { methods: ['POST'], schema: { body }, strict: true })
    .done()
    .build();
  const all = new ServerBuilder('inline-all')
    .withPort(0)
    .routes.withRoute('/before', echo, { methods: ['POST'], schema: { body } })
    .withStrictValidation()
    .withForward('/after', { methods: ['POST'], handler: 'echo', schema: { body } })
    .withRoute('/opt-out', echo, { methods: ['POST'], schema: { body }, strict: false })
    .done()
    .build();
  all.engine.handle('echo', (req: any) => ({ body: req.body }));
  try {
    const a = await server.listen();
    assert.deepEqual((await post(`${a.url}/lax`, { n: '3' })).body, { body: { n: 3 } });
    assert.equal((await post(`${a.url}/strict`, { n: '3' })).status, 422);
    const b = await all.listen();
    assert.equal((await post(`${b.url}/before`, { n: '3' })).status, 422);
    assert.equal((await post(`${b.url}/after`, { n: '3' })).status, 422);
    assert.deepEqual((await post(`${b.url}/opt-out`, { n: '3' })).body, { body: { n: 3 } });
  } finally {
    await server.stop(1);
    await all.stop(1);
  }
});
