/** The app-file checks that need no process: cross-field rules of the seed-000 contract. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { appFileFromObject, contractSummary } from '../../src/server/cli/app-file.js';
import { SOURCE, problems } from './refusals.js';

// Relative engine paths resolve against the file's folder: pretend the file sits beside the example engine.
const base = { engine: { module: './engine.mjs' }, endpoints: [{ path: '/v1/echo', methods: ['post'], handler: 'echo' }] };


test('defaults: pipe transport, one web process, methods upper-cased, name from the file', () => {
  const f = appFileFromObject(base, SOURCE);
  assert.equal(f.mode, 'subprocess');
  assert.equal(f.name, 'virtual');
  assert.equal(f.api.uvicorn.workers, 1);
  assert.deepEqual(f.endpoints[0]!.methods, ['POST']);
  assert.equal(f.engineModule, fileURLToPath(new URL('../../examples/config/engine.mjs', import.meta.url)));
  const c = contractSummary(f) as { process_groups: unknown[]; web: { interfaces: unknown[] } };
  assert.deepEqual(c.process_groups, [{ name: 'web', processes: 1, runs: 'framework code only (no user code)' }]);
});

test('process_groups: the web group sets the number of web processes, and must agree with uvicorn.workers', () => {
  const f = appFileFromObject({ ...base, runtime: { platform: { process_groups: [{ name: 'web', workers: 3 }] } } }, SOURCE);
  assert.equal(f.api.uvicorn.workers, 3);
  assert.deepEqual(problems({ ...base, uvicorn: { workers: 2 }, runtime: { platform: { process_groups: [{ name: 'web', workers: 3 }] } } }), [
    'runtime.platform.process_groups[0].workers: got 3, expected the same number as uvicorn.workers (2), or set only one of them',
  ]);
  assert.deepEqual(problems({ ...base, runtime: { platform: { process_groups: [{ name: 'web', stages: ['core'] }, { name: 'web' }] } } }), [
    'runtime.platform.process_groups[1].name: got "web", expected a unique name (also used by process_groups[0])',
    'runtime.platform.process_groups[0].stages: got ["core"], expected nothing: the web group runs no user code, so it has no stages',
  ]);
});

test('the memory transport serves in the main process, so it cannot have several web workers', () => {
  assert.equal(appFileFromObject({ ...base, runtime: { platform: { execution_ipc: { transport: 'memory' } } } }, SOURCE).mode, 'direct');
  assert.deepEqual(problems({ ...base, uvicorn: { workers: 2 }, runtime: { platform: { execution_ipc: { transport: 'memory' } } } }), [
    'runtime.platform.execution_ipc.transport: got "memory" with 2 web workers, expected pipe: the memory transport serves HTTP in the main process, which is one process',
  ]);
});

test('endpoints: duplicates (also across {name} and :name), built-in paths, and an http interface that cannot answer', () => {
  const endpoints = [
    { path: '/v1/items/{id}', methods: ['GET', 'POST'], handler: 'echo' },
    { path: '/v1/items/:id', methods: ['post'], handler: 'echo' },
    { path: '/_health', handler: 'echo' },
  ];
  assert.deepEqual(problems({ ...base, endpoints, runtime: { web: { interfaces: [{ kind: 'http', binds: ['stream'] }] } } }), [
    'endpoints[1]: POST /v1/items/:id is already declared by endpoints[0]; remove one',
    'endpoints[2].path: got "/_health", expected a path the framework does not serve itself (/_health, /docs and /openapi.json are built in)',
    'runtime.web.interfaces[0].binds: got ["stream"], expected request and response among them (an http interface answers requests)',
    'endpoints[0].kind: got "http", expected the http interface to bind the request port (it binds stream)',
    'endpoints[1].kind: got "http", expected the http interface to bind the request port (it binds stream)',
    'endpoints[2].kind: got "http", expected the http interface to bind the request port (it binds stream)',
  ]);
});

test('api/uvicorn/ipc problems are reported together with the file’s own, with the keys as written', () => {
  assert.deepEqual(problems({ ...base, endpoints: [], api: { response_timeout: -1 }, ipc: { max_pending: 0 } }), [
    'endpoints: got [], expected at least one endpoint',
    'api.response_timeout: got -1, expected a positive number of seconds (deadline for the engine to answer an HTTP request)',
    'ipc.max_pending: got 0, expected a positive integer (requests waiting for the engine before admission is refused)',
  ]);
});

test('a problem in one section hides none in another: uvicorn, api, ipc and endpoints are all checked', () => {
  assert.deepEqual(problems({ ...base, endpoints: [{ path: 'x', handler: 'echo' }], api: { prot: 1 }, uvicorn: { workers: 0 }, ipc: { codec: 'yaml' } }), [
    'endpoints[0].path: got "x", expected a URL path starting with "/"',
    'api.prot: unknown key; known keys are host, port, title, description, version, responseTimeout, logFile, autoRestart, restartDelay, maxRestarts, uvicorn, rateLimit, auth, maxPayloadBytes, metrics, statusPage, tracing',
    'uvicorn.workers: got 0, expected a positive integer (number of web processes)',
    'ipc.codec: got "yaml", expected one of json, msgpack, v8',
  ]);
  // An unknown uvicorn key used to stop the load before api was looked at.
  assert.deepEqual(problems({ ...base, api: { prot: 1 }, uvicorn: { port: 3 } }), [
    'api.prot: unknown key; known keys are host, port, title, description, version, responseTimeout, logFile, autoRestart, restartDelay, maxRestarts, uvicorn, rateLimit, auth, maxPayloadBytes, metrics, statusPage, tracing',
    'uvicorn.port: unknown key; known keys are workers, timeoutKeepAlive, limitConcurrency, limitMaxRequests, backlog, logLevel, accessLog, sslKeyfile, sslCertfile, http2',
  ]);
  // A key given twice is one problem among the others, not the only one.
  assert.deepEqual(problems({ ...base, api: { response_timeout: 5, responseTimeout: 5, port: -1 }, ipc: { codec: 'yaml' } }), [
    'api.responseTimeout: given twice (as snake_case and camelCase); keep one',
    'api.port: got -1, expected a port number 0..65535',
    'ipc.codec: got "yaml", expected one of json, msgpack, v8',
  ]);
});

test('the cross-section checks still run on the parts that are valid when another part is not', () => {
  const endpoints = [
    { path: '/v1/a', methods: ['POST'], handler: 'echo' },
    { path: '/v1/a', methods: ['POST'], handler: 'echo' },
    { path: '/v1/b', methods: ['FETCH'], handler: 'echo' },
  ];
  assert.deepEqual(problems({ ...base, endpoints, ipc: { codec: 'yaml' }, runtime: { platform: { execution_ipc: { transport: 'redis' } } } }), [
    'endpoints[2].methods[0]: got "FETCH", expected an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)',
    'endpoints[1]: POST /v1/a is already declared by endpoints[0]; remove one',
    'ipc.codec: got "yaml", expected one of json, msgpack, v8',
  ]);
});
