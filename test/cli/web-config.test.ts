/**
 * Seed 000's WEB-01, WEB-02 and WEB-06 against `appinfra serve` run as a real process:
 * routes come from the config file, the engine sees correlation metadata, and a new
 * endpoint needs nothing but a config entry and an engine function.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, json, resourcesNow } from '../helpers.js';
import { CLI, run, start, stop, type Running } from './proc.js';

let baseline: string[];
let dir: string;
let example: Running;
let url: string;
let webPid: number;
before(async () => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-web-'));
  example = start(CLI, ['serve', 'examples/config/app.yaml', '--port', '0']);
  const m = await example.waitForOutput(/listening on (\S+) \(subprocess mode, web pid (\d+)/);
  url = m[1]!;
  webPid = Number(m[2]);
});
after(async () => {
  await stop(example, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

test('WEB-01: every endpoint of the config file is registered and reachable over HTTP, with its schema', async () => {
  const echo = await fetch(`${url}/v1/echo`, json({ message: 'hi' }));
  assert.equal(echo.status, 200);
  assert.equal(((await echo.json()) as { message: string }).message, 'hi');
  assert.deepEqual(await (await fetch(`${url}/v1/hello/ada`)).json(), { message: 'Hello, ada!' });
  const sse = await fetch(`${url}/v1/count`, json({ n: 3 }));
  assert.equal(sse.status, 200);
  assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(await sse.text(), 'data: {"i":1}\n\ndata: {"i":2}\n\ndata: {"i":3}\n\n');
  // The body schema declared in the file is enforced by the web process.
  const invalid = await fetch(`${url}/v1/echo`, json({ text: 'no message' }));
  assert.equal(invalid.status, 422);
  assert.match(((await invalid.json()) as { message: string }).message, /must have required property 'message'/);
  // Methods are as declared: GET on a POST-only endpoint is 405, naming the methods it has.
  const wrongMethod = await fetch(`${url}/v1/echo`);
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  assert.equal((await fetch(`${url}/v1/undeclared`)).status, 404);
  const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary?: string }>> };
  assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/')).sort(), ['/v1/count', '/v1/echo', '/v1/hello/{name}']);
  assert.equal(doc.paths['/v1/echo']!.post!.summary, 'Echo the body, with the correlation metadata the engine saw');
});

test('WEB-02: the engine handler sees the request id, the reply-to address and the deadline', async () => {
  const health = (await (await fetch(`${url}/_health`)).json()) as { ipc: { replyTo: string } };
  const replyTo = health.ipc.replyTo;
  assert.match(replyTo, /^config-example\.w0\./);
  const before = Date.now();
  const [a, b] = (await Promise.all(
    ['one', 'two'].map(async (message) => (await fetch(`${url}/v1/echo`, json({ message }))).json()),
  )) as { message: string; requestId: string; replyTo: string; deadline: number; pid: number }[];
  const afterwards = Date.now();
  for (const r of [a!, b!]) {
    // reply_to names the web process the answer must go back to.
    assert.equal(r.replyTo, replyTo);
    assert.equal(typeof r.requestId, 'string');
    assert.ok(r.requestId.startsWith(`${replyTo}.`), `request id ${r.requestId} is allocated by its web process`);
    // The deadline is the file's api.response_timeout (30 s) after the request entered.
    assert.ok(r.deadline >= before + 30_000 && r.deadline <= afterwards + 30_000, `deadline ${r.deadline} within [${before + 30_000}, ${afterwards + 30_000}]`);
    assert.equal(r.pid, example.child.pid, 'the handler ran in the engine (main) process');
    assert.notEqual(r.pid, webPid);
  }
  assert.notEqual(a!.requestId, b!.requestId);
});

test('WEB-06: a new endpoint needs only a config entry and an engine function; the web process never runs the engine module', async () => {
  const marker = join(dir, 'imported-by.txt');
  const engine = join(dir, 'engine.mjs');
  const config = join(dir, 'app.yaml');
  writeFileSync(
    engine,
    [
      "import { appendFileSync } from 'node:fs';",
      '// A side effect at import: it must happen in the engine process only.',
      `appendFileSync(${JSON.stringify(marker)}, process.pid + '\\n');`,
      'export const shout = (req) => ({ text: String(req.body.text).toUpperCase() });',
      '',
    ].join('\n'),
  );
  writeFileSync(config, ['name: grows', 'engine: { module: ./engine.mjs }', 'endpoints:', '  - { path: /v1/shout, methods: [POST], handler: shout }', ''].join('\n'));

  const serve = async (check: (base: string) => Promise<void>): Promise<{ cli: number; web: number }> => {
    const p = start(CLI, ['serve', config, '--port', '0']);
    try {
      const [, base, web] = await p.waitForOutput(/listening on (\S+) \(subprocess mode, web pid (\d+)/);
      await check(base!);
      assert.deepEqual(await stop(p, 'SIGTERM'), { code: 143, signal: null });
      return { cli: p.child.pid!, web: Number(web) };
    } finally {
      await stop(p, 'SIGKILL');
    }
  };

  const first = await serve(async (base) => {
    assert.deepEqual(await (await fetch(`${base}/v1/shout`, json({ text: 'hey' }))).json(), { text: 'HEY' });
    assert.equal((await fetch(`${base}/v1/reverse`, json({ text: 'abc' }))).status, 404);
  });

  // The whole change for a new endpoint: one function in the engine module, one entry in the file.
  appendFileSync(engine, "export const reverse = (req) => ({ text: [...String(req.body.text)].reverse().join('') });\n");
  appendFileSync(config, '  - { path: /v1/reverse, methods: [POST], handler: reverse }\n');
  const table = await run(CLI, ['routes', config]);
  assert.match(table.stdout, /POST\s+\/v1\/reverse\s+http\s+request\/response\s+reverse/);

  const second = await serve(async (base) => {
    assert.deepEqual(await (await fetch(`${base}/v1/reverse`, json({ text: 'abc' }))).json(), { text: 'cba' });
    assert.deepEqual(await (await fetch(`${base}/v1/shout`, json({ text: 'still' }))).json(), { text: 'STILL' });
  });

  // Only the two engine processes imported the module; neither web process did.
  assert.deepEqual(readFileSync(marker, 'utf8').trim().split('\n').map(Number), [first.cli, second.cli]);
  assert.notEqual(first.web, first.cli);
});
