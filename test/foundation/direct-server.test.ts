import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ServerBuilder, ApiConfig, type Server, type BoundAddress, StateError } from '../../src/index.js';
import { assertNoLeaks, resourcesNow, json, waitFor } from '../helpers.js';

class TeapotError extends Error {}
class SmallTeapotError extends TeapotError {}

const itemModel = { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } };

/** A router plugin as FastAPI's APIRouter: its own routes, mounted under a prefix. */
async function v1Router(app: FastifyInstance): Promise<void> {
  app.get('/ping', async () => ({ pong: true }));
  app.get('/tagged', { schema: { tags: ['own'] } }, async () => ({ tagged: true }));
}

/** A middleware plugin: applies to every route of the app, including routers'. */
async function stampPlugin(app: FastifyInstance, opts: { value: string }): Promise<void> {
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-plugin', opts.value);
  });
}

let baseline: string[];
let server: Server;
let addr: BoundAddress;
const hookSeen: string[] = [];

before(async () => {
  baseline = resourcesNow();
  server = new ServerBuilder('direct')
    .withConfig(new ApiConfig({ port: 0, description: 'overwritten below' }))
    .withTitle('Foundation API')
    .withDescription('Direct mode under test')
    .withVersion('1.2.3')
    .withTimeout(0.3)
    .routes
    .withRoute('/health', async () => ({ status: 'ok' }))
    .withRoute('/hello/{name}', async (req) => ({ message: `Hello, ${req.params.name}!` }))
    .withRoute('/items/{item_id}', async (req) => ({ id: req.params.item_id, name: 'widget', secret: 'not in the model' }), {
      methods: ['get', 'PUT'],
      responseModel: itemModel,
      tags: ['items'],
      summary: 'Get or replace an item',
      schema: { params: { type: 'object', properties: { item_id: { type: 'integer' } }, required: ['item_id'] } },
    })
    .withRoute('/items', async (req, reply) => reply.code(201).send({ created: req.body }), {
      methods: ['POST'],
      schema: {
        body: {
          type: 'object',
          required: ['name', 'price'],
          properties: { name: { type: 'string' }, price: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } },
        },
      },
    })
    .withRoute('/search', async (req) => ({ q: req.query.q, limit: req.query.limit }), {
      schema: { querystring: { type: 'object', properties: { q: { type: 'string' }, limit: { type: 'integer', maximum: 10 } }, required: ['q'] } },
    })
    .withRoute('/boom', async () => {
      throw new Error('db password=hunter2 at /srv/app.ts:10');
    })
    .withRoute('/boom-status', async () => {
      throw Object.assign(new Error('upstream said: token=abc'), { statusCode: 502 });
    })
    .withRoute('/boom-string', async () => {
      throw 'a bare string';
    })
    .withRoute('/bad-request', async () => {
      throw Object.assign(new Error('name is taken'), { statusCode: 409 });
    })
    .withRoute('/teapot', async () => {
      throw new SmallTeapotError('short and stout');
    })
    .withRoute('/handler-throws', async () => {
      throw new RangeError('handled badly');
    })
    .withForward('/slow-engine')
    .withRouter(v1Router, { prefix: '/api/v1', tags: ['v1'] })
    .withExceptionHandler(TeapotError, (err: Error, _req, reply) => reply.code(418).send({ teapot: err.message }))
    .withExceptionHandler(RangeError, () => {
      throw new Error('handler failed with secret=xyz');
    })
    .withMiddleware(stampPlugin, { value: 'stamped' })
    .withMiddleware('onRequest', async (req) => {
      hookSeen.push(req.url);
    })
    .withMiddleware('onSend', async (_req, reply) => {
      reply.header('x-hook', 'yes');
    })
    .withCors(['http://app.example'], { allowCredentials: true, allowMethods: ['GET', 'POST'], allowHeaders: ['x-custom'] })
    .done()
    // The 500s below are logged on purpose; keep the test output readable.
    .uvicorn.withLogLevel('critical').done()
    .build();
  // An engine handler that never answers: the route must time out with 504 after withTimeout.
  server.engine.handle('/slow-engine', () => new Promise(() => undefined));
  addr = await server.listen();
});

after(async () => {
  await server.stop(2);
  await assertNoLeaks(baseline);
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(addr.url + path, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

test('listen() returns the bound address; port 0 gave a real port; state flags are right', () => {
  assert.equal(addr.host, '127.0.0.1');
  assert.ok(addr.port > 0);
  assert.equal(addr.url, `http://127.0.0.1:${addr.port}`);
  assert.deepEqual(server.address, addr);
  assert.equal(server.isRunning, true);
  assert.equal(server.isSubprocessMode, false);
  assert.ok(server.app.hasRoute({ method: 'GET', url: '/hello/:name' }), 'server.app is the Fastify instance');
  assert.equal(server.ipc?.isConnected, true);
});

test('plain routes return their values as JSON; {name} path parameters work', async () => {
  const health = await get('/health');
  assert.equal(health.status, 200);
  assert.match(health.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(health.body, { status: 'ok' });
  assert.deepEqual((await get('/hello/World')).body, { message: 'Hello, World!' });
  assert.deepEqual((await get('/hello/caf%C3%A9')).body, { message: 'Hello, café!' });
});

test('methods: default GET only; listed methods (any case) are served', async () => {
  // A known path with another method is 405 and says which methods it has (OPTIONS: this server has CORS).
  const wrong = await get('/health', { method: 'POST' });
  assert.deepEqual([wrong.status, wrong.headers.get('allow')], [405, 'GET, HEAD, OPTIONS']);
  assert.equal((await get('/items/3')).status, 200);
  assert.equal((await get('/items/3', { method: 'PUT' })).status, 200);
  assert.equal((await get('/items/3', { method: 'DELETE' })).status, 405);
});

test('responseModel serialises only the declared fields; params schema coerces types', async () => {
  const r = await get('/items/42');
  assert.deepEqual(r.body, { id: 42, name: 'widget' });
  assert.ok(!r.text.includes('secret'));
});

test('validation errors are 422 and name the failing field', async () => {
  const missing = await get('/items', json({ price: 3 }));
  assert.equal(missing.status, 422);
  assert.equal(missing.body.code, 'VALIDATION_ERROR');
  assert.ok(missing.body.detail.some((d: any) => d.loc.join('.') === 'body.name' && d.type === 'required'), missing.text);

  const wrong = await get('/items', json({ name: 'a', price: 'cheap', tags: ['ok', 5] }));
  assert.equal(wrong.status, 422);
  const locs = wrong.body.detail.map((d: any) => d.loc.join('.'));
  assert.ok(locs.includes('body.price'), wrong.text);
  assert.match(wrong.body.message, /body\.price/);

  const param = await get('/items/abc');
  assert.equal(param.status, 422);
  assert.deepEqual(param.body.detail[0].loc, ['params', 'item_id']);

  const query = await get('/search?limit=50');
  assert.equal(query.status, 422);
  const qlocs = query.body.detail.map((d: any) => d.loc.join('.'));
  assert.ok(qlocs.includes('querystring.q') && qlocs.includes('querystring.limit'), query.text);

  const good = await get('/items', json({ name: 'a', price: 3 }));
  assert.equal(good.status, 201);
  assert.deepEqual(good.body, { created: { name: 'a', price: 3 } });
});

test('no 500 response carries a stack trace or an internal message', async () => {
  for (const path of ['/boom', '/boom-status', '/boom-string', '/handler-throws']) {
    const r = await get(path);
    assert.ok(r.status >= 500, `${path}: ${r.status}`);
    assert.doesNotMatch(r.text, /\bat .*\.(ts|js)|stack|hunter2|token=abc|secret=xyz|bare string|\/srv\//, `${path} leaked: ${r.text}`);
    assert.equal(r.body.message, 'Internal Server Error', path);
  }
  assert.equal((await get('/boom-status')).status, 502);
  const malformed = await get('/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
  assert.equal(malformed.status, 400);
  assert.doesNotMatch(malformed.text, /\bat .*\.(ts|js)|stack/);
  // A client error keeps its message: it is meant for the client.
  const conflict = await get('/bad-request');
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.message, 'name is taken');
});

test('withExceptionHandler maps an error class and its subclasses', async () => {
  const r = await get('/teapot');
  assert.equal(r.status, 418);
  assert.deepEqual(r.body, { teapot: 'short and stout' });
});

test('exception handlers: the most derived class wins; a catch-all for Error leaves 422 and 4xx alone', async () => {
  const s = new ServerBuilder('handlers')
    .withPort(0)
    .routes.withRoute('/small', async () => {
      throw new SmallTeapotError('tiny');
    })
    .withRoute('/plain', async () => {
      throw new Error('internal detail');
    })
    .withRoute('/conflict', async () => {
      throw Object.assign(new Error('already there'), { statusCode: 409 });
    })
    .withRoute('/typed', async () => ({}), { methods: ['POST'], schema: { body: { type: 'object', required: ['a'] } } })
    .withExceptionHandler(Error, (_err, _req, reply) => reply.code(500).send({ caughtBy: 'Error' }))
    .withExceptionHandler(TeapotError, (_err, _req, reply) => reply.code(418).send({ caughtBy: 'TeapotError' }))
    .withExceptionHandler(SmallTeapotError, (_err, _req, reply) => reply.code(418).send({ caughtBy: 'SmallTeapotError' }))
    .done()
    .build();
  const a = await s.listen();
  try {
    assert.deepEqual(await (await fetch(`${a.url}/small`)).json(), { caughtBy: 'SmallTeapotError' });
    assert.deepEqual(await (await fetch(`${a.url}/plain`)).json(), { caughtBy: 'Error' });
    const conflict = await fetch(`${a.url}/conflict`);
    assert.equal(conflict.status, 409);
    assert.equal(((await conflict.json()) as any).message, 'already there');
    const invalid = await fetch(`${a.url}/typed`, json({}));
    assert.equal(invalid.status, 422);
    assert.equal(((await invalid.json()) as any).code, 'VALIDATION_ERROR');
  } finally {
    await s.stop(1);
  }
});

test('unknown routes get a JSON 404', async () => {
  const r = await get('/nope?x=1');
  assert.equal(r.status, 404);
  assert.equal(r.body.message, 'Route GET /nope not found');
});

test('withTimeout is the deadline of a route that waits for the engine: 504', async () => {
  const r = await get('/slow-engine');
  assert.equal(r.status, 504);
  assert.equal(server.ipc?.pendingCount, 0, 'the timed-out waiter was removed');
});

test('withRouter mounts under the prefix and tags its routes in OpenAPI', async () => {
  assert.deepEqual((await get('/api/v1/ping')).body, { pong: true });
  assert.equal((await get('/ping')).status, 404);
  const doc = (await get('/openapi.json')).body;
  assert.deepEqual(doc.paths['/api/v1/ping'].get.tags, ['v1']);
  assert.deepEqual([...doc.paths['/api/v1/tagged'].get.tags].sort(), ['own', 'v1']);
});

test('OpenAPI at /openapi.json is titled from the config and lists routes in {name} form with tags', async () => {
  const r = await get('/openapi.json');
  assert.equal(r.status, 200);
  const doc = r.body;
  assert.match(doc.openapi, /^3\./);
  assert.deepEqual(doc.info, { title: 'Foundation API', description: 'Direct mode under test', version: '1.2.3' });
  assert.ok(doc.paths['/hello/{name}'].get, Object.keys(doc.paths).join(' '));
  const item = doc.paths['/items/{item_id}'];
  assert.deepEqual(item.get.tags, ['items']);
  assert.equal(item.get.summary, 'Get or replace an item');
  assert.ok(item.put);
  assert.ok(doc.paths['/items'].post.requestBody);
  assert.equal(doc.paths['/openapi.json'], undefined, 'the document does not list itself');
  const page = await get('/docs');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
});

test('withMiddleware: a plugin and hooks apply to every route, routers included', async () => {
  hookSeen.length = 0;
  for (const path of ['/health', '/api/v1/ping']) {
    const r = await get(path);
    assert.equal(r.headers.get('x-plugin'), 'stamped', path);
    assert.equal(r.headers.get('x-hook'), 'yes', path);
  }
  assert.deepEqual(hookSeen, ['/health', '/api/v1/ping']);
});

test('withCors: preflight answers with the configured origin, credentials, methods and headers', async () => {
  const pre = await get('/items', {
    method: 'OPTIONS',
    headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-custom' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
  assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, POST');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'x-custom');

  const simple = await get('/health', { headers: { origin: 'http://app.example' } });
  assert.equal(simple.headers.get('access-control-allow-origin'), 'http://app.example');
  const foreign = await get('/health', { headers: { origin: 'http://evil.example' } });
  assert.equal(foreign.status, 200);
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
});

test('withCors defaults: any method and the requested headers are allowed', async () => {
  const s = new ServerBuilder('cors').withPort(0).routes.withRoute('/x', async () => ({})).withCors(['*']).done().build();
  const a = await s.listen();
  try {
    const res = await fetch(`${a.url}/x`, {
      method: 'OPTIONS',
      headers: { origin: 'http://any.example', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'x-one,x-two' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /DELETE/);
    assert.equal(res.headers.get('access-control-allow-headers'), 'x-one,x-two');
  } finally {
    await s.stop(1);
  }
});

test('withHost and withPort bind exactly there', async () => {
  // Find a free port, release it, then ask the server for it.
  const probe = createServer();
  const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.2', () => resolve((probe.address() as { port: number }).port)));
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const s = new ServerBuilder('bind').withHost('127.0.0.2').withPort(port).routes.withRoute('/x', async () => ({ here: true })).done().build();
  const a = await s.listen();
  try {
    assert.deepEqual([a.host, a.port, a.url], ['127.0.0.2', port, `http://127.0.0.2:${port}`]);
    assert.deepEqual(await (await fetch(`${a.url}/x`)).json(), { here: true });
    await assert.rejects(fetch(`http://127.0.0.1:${port}/x`), 'not bound on 127.0.0.1');
  } finally {
    await s.stop(1);
  }
});

test('withRouter(module URL) mounts a route module under its prefix with its tags and options', async () => {
  const s = new ServerBuilder('module')
    .withPort(0)
    .routes.withRouter(new URL('../fixtures/foundation/router-module.ts', import.meta.url), { prefix: '/mod', tags: ['mod'], options: { greeting: 'hello' } })
    .done()
    .build();
  const a = await s.listen();
  try {
    assert.deepEqual(await (await fetch(`${a.url}/mod/greet`)).json(), { greeting: 'hello', hasIpc: true });
    const doc = (await (await fetch(`${a.url}/openapi.json`)).json()) as any;
    assert.deepEqual(doc.paths['/mod/greet'].get.tags, ['mod']);
  } finally {
    await s.stop(1);
  }
});

test('listen() on a port in use fails with EADDRINUSE, stops the server and still runs onClose hooks', async () => {
  let closed = 0;
  const s = new ServerBuilder('taken')
    .withPort(addr.port)
    .routes.withMiddleware(async (app: FastifyInstance) => {
      app.addHook('onClose', async () => {
        closed++;
      });
    })
    .done()
    .build();
  await assert.rejects(s.listen(), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
  assert.equal(s.isRunning, false);
  assert.equal(closed, 1, 'the app built for the failed listen was closed');
  await s.stop();
});

test('a middleware plugin that fails at start fails listen() with its error', async () => {
  const s = new ServerBuilder('broken')
    .withPort(0)
    .routes.withMiddleware(async () => {
      throw new Error('plugin cannot start');
    })
    .done()
    .build();
  await assert.rejects(s.listen(), /plugin cannot start/);
  assert.equal(s.isRunning, false);
});

test('start() serves and resolves only once stopped; lifecycle misuse is a StateError', async () => {
  const s = new ServerBuilder('blocking').withPort(0).routes.withRoute('/x', async () => ({ up: true })).done().build();
  // Never started: stop() does nothing, and the server can still start.
  await s.stop();
  let resolved = false;
  const running = s.start().then(() => {
    resolved = true;
  });
  await waitFor(() => s.isRunning, 5000, 'start() to listen');
  assert.deepEqual(await (await fetch(`${s.address!.url}/x`)).json(), { up: true });
  assert.equal(resolved, false, 'start() is still blocking while serving');
  await assert.rejects(s.listen(), StateError);
  await s.stop(1);
  await running;
  assert.equal(resolved, true);
  assert.equal(s.isRunning, false);
  await assert.rejects(fetch(`${s.address!.url}/x`));
});

test('the built-in /_health reports the direct link', async () => {
  const r = await get('/_health');
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
  assert.equal(r.body.mode, 'direct');
});
