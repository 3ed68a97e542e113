/**
 * `appinfra serve` with the ingress policies and a graphql interface declared in the YAML,
 * two web processes: one rate limit for the server, keys from a file beside the app file,
 * body limits, and GraphQL resolved by the engine module's functions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guardLeaks } from '../helpers.js';
import { ConfigError } from '../../src/index.js';
import { appFileFromObject } from '../../src/server/cli/app-file.js';
import { CLI, run, start, stop } from '../cli/proc.js';

const dir = guardLeaks({ tmp: 'appinfra-ingress-file-' });
const KEY = 'file-key-77';

function appFile(extra = ''): string {
  writeFileSync(join(dir, 'engine.mjs'), 'export const echo = (req) => ({ body: req.body ?? null });\nexport const hello = (req) => `hello ${req.body.name}`;\n');
  writeFileSync(join(dir, 'schema.graphql'), 'type Query { hello(name: String!): String }\n');
  writeFileSync(join(dir, 'keys.txt'), `${KEY}\n`);
  const path = join(dir, 'app.yaml');
  writeFileSync(
    path,
    `name: guarded-file
engine: { module: ./engine.mjs }
api:
  max_payload_bytes: 1024
  rate_limit: { rate: "6/min", key: global }
  auth: { file: keys.txt }
uvicorn: { workers: 2 }
endpoints:
  - { path: /echo, methods: [POST], handler: echo }
  - { path: /upload, methods: [POST], handler: echo, max_payload_bytes: 8192, rate_limit: false }
  - { path: /open, handler: echo, auth: false, rate_limit: false }
runtime:
  web:
    interfaces:
      - { kind: http, binds: [request, response, stream] }
      - { kind: graphql, binds: [request], schema: schema.graphql, resolvers: { Query: { hello: hello } } }
${extra}`,
  );
  return path;
}

test('check shows the ingress policies as enforced and the graphql route', async () => {
  const r = await run(CLI, ['check', appFile(), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { contract: c } = JSON.parse(r.stdout);
  assert.deepEqual(c.ingress, {
    max_payload_bytes: 1024,
    auth: { keys_from: ['file'], header: 'authorization', exempt: ['/_health'] },
    rate_limit: { rate: '6/min', burst: 0, key: 'global', exempt: ['/_health', '/metrics', '/_status'] },
  });
  assert.ok(!c.notes.some((n: string) => /max_payload_bytes/.test(n)), 'no "not enforced" note left');
  const routes = await run(CLI, ['routes', join(dir, 'app.yaml')]);
  assert.match(routes.stdout, /GET,POST\s+\/graphql\s+graphql\s+request, stream\s+hello/);
});

test('check refuses a malformed rate, a missing keys file and a resolver the engine lacks, each by key path', async () => {
  const path = appFile();
  writeFileSync(
    path,
    `engine: { module: ./engine.mjs }
api:
  rate_limit: { rate: "6/min", burst: -1 }
  auth: { file: nokeys.txt }
endpoints: [{ path: /echo, handler: echo, rate_limit: { rate: "x" } }]
runtime:
  web:
    interfaces:
      - { kind: http, binds: [request, response] }
      - { kind: graphql, binds: [request], schema: schema.graphql, resolvers: { Query: { hello: greet } } }
`,
  );
  const r = await run(CLI, ['check', path]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /endpoints\[0\]\.rate_limit\.rate: got "x", expected Invalid rate limit format: 'x'/);
  assert.match(r.stderr, /api\.rate_limit\.burst: got -1, expected an integer >= 0/);
  assert.match(r.stderr, /resolvers\.Query\.hello: got "greet", expected the name of a function exported by \.\/engine\.mjs/);
});

test('api.auth.file is relative to the app file and must exist', () => {
  const doc = { engine: { module: './engine.mjs' }, endpoints: [{ path: '/echo', handler: 'echo' }], api: { auth: { file: 'nokeys.txt' } } };
  appFile();
  assert.throws(() => appFileFromObject(doc, join(dir, 'app.yaml')), (err: unknown) => err instanceof ConfigError && err.message.includes(`api.auth.file: got a path that does not exist (${join(dir, 'nokeys.txt')})`));
  const ok = appFileFromObject({ ...doc, api: { auth: { file: 'keys.txt' } } }, join(dir, 'app.yaml'));
  assert.equal(ok.api.auth?.file, join(dir, 'keys.txt'));
});

test('serve: 2 web processes share the limit; auth, body limits and GraphQL from the file', async () => {
  const p = start(CLI, ['serve', appFile(), '--port', '0']);
  try {
    const [, url] = await p.waitForOutput(/listening on (\S+) \(subprocess mode/);
    const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', connection: 'close' };
    assert.equal((await fetch(`${url}/echo`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 401);
    assert.equal((await fetch(`${url}/echo`, { method: 'POST', body: JSON.stringify({ s: 'x'.repeat(2000) }), headers: auth })).status, 413);
    assert.equal((await fetch(`${url}/upload`, { method: 'POST', body: JSON.stringify({ s: 'x'.repeat(2000) }), headers: auth })).status, 200);
    const gql = await fetch(`${url}/graphql`, { method: 'POST', body: JSON.stringify({ query: '{ hello(name: "yaml") }' }), headers: auth });
    assert.deepEqual(await gql.json(), { data: { hello: 'hello yaml' } });
    // 6 per minute for the whole server (global key): the 3 requests above were 401 (auth runs first), 413 (counted) and GraphQL (counted).
    const replies = await Promise.all(Array.from({ length: 20 }, () => fetch(`${url}/echo`, { method: 'POST', body: '{}', headers: auth })));
    assert.equal(replies.filter((r) => r.status === 200).length, 4);
    assert.equal(replies.filter((r) => r.status === 429).length, 16);
    assert.equal((await fetch(`${url}/open`)).status, 200);
    assert.deepEqual(await stop(p, 'SIGTERM'), { code: 143, signal: null });
  } finally {
    await stop(p, 'SIGKILL');
  }
});
