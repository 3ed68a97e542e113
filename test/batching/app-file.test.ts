/** `engine.handlers` in an app file: `appinfra serve` batches and limits handlers as the file says. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/index.js';
import { appFileFromObject } from '../../src/server/cli/app-file.js';
import { guardLeaks, json } from '../helpers.js';
import { CLI, start, stop } from '../cli/proc.js';

const dir = guardLeaks({ tmp: 'appinfra-batch-file-' });
const SOURCE = fileURLToPath(new URL('../../examples/config/app.yaml', import.meta.url));

test('engine.handlers: bad settings are named with their key path', () => {
  const doc = {
    engine: { module: './engine.mjs', handlers: { hello: { batch: { max_batch_size: 0 } }, echo: { max_queue: 5 }, count: { queue_order: 'lifo', concurrency: 1 } } },
    endpoints: [{ path: '/x', handler: 'hello' }],
  };
  assert.throws(() => appFileFromObject(doc, SOURCE), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /engine\.handlers\.hello\.batch\.max_batch_size/);
    assert.match(err.message, /engine\.handlers\.echo.*batch: or concurrency:/);
    assert.match(err.message, /engine\.handlers\.count\.queue_order.*fifo or deadline/);
    return true;
  });
  const ok = appFileFromObject({ engine: { module: './engine.mjs', handlers: { hello: { batch: {} } } }, endpoints: [{ path: '/x', handler: 'hello' }] }, SOURCE);
  assert.deepEqual(ok.handlerSettings, { hello: { batch: { max_batch_size: 32, max_wait_ms: 5 } } });
});

test('appinfra serve: a batched handler gets its requests together; a limited one answers 503 + Retry-After over its queue', async () => {
  writeFileSync(
    join(dir, 'engine.mjs'),
    [
      'export const embed = (requests) => requests.map((r) => ({ text: r.body.text, batch: requests.length }));',
      'let release; const held = new Promise((r) => (release = r));',
      'export const slow = async (r) => { if (r.body.hold) await held; return { ok: true }; };',
      'export const open = () => { release(); return { opened: true }; };',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'app.yaml'),
    [
      'engine:',
      '  module: ./engine.mjs',
      '  handlers:',
      '    embed: { batch: { max_batch_size: 8, max_wait_ms: 200 } }',
      '    slow: { concurrency: 1, max_queue: 1, retry_after: 3 }',
      'endpoints:',
      '  - { path: /embed, methods: [POST], handler: embed }',
      '  - { path: /slow, methods: [POST], handler: slow }',
      '  - { path: /open, methods: [POST], handler: open }',
      '',
    ].join('\n'),
  );
  const p = start(CLI, ['serve', join(dir, 'app.yaml'), '--port', '0']);
  try {
    const [, url] = await p.waitForOutput(/listening on (\S+) \(subprocess mode/);
    const answers = await Promise.all(['a', 'b', 'c', 'd'].map(async (text) => (await fetch(`${url}/embed`, json({ text }))).json()));
    assert.deepEqual(answers, ['a', 'b', 'c', 'd'].map((text) => ({ text, batch: 4 })), 'four concurrent requests, one batch');

    const running = fetch(`${url}/slow`, json({ hold: true }));
    const queued = fetch(`${url}/slow`, json({ hold: true }));
    // One runs, one waits: the third is over the queue's bound.
    let refused: Response | undefined;
    for (let i = 0; i < 50 && !refused; i++) {
      const r = await fetch(`${url}/slow`, json({ hold: false }));
      if (r.status === 503) refused = r;
      else await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(refused, 'a request over the queue bound is refused');
    assert.equal(refused.headers.get('retry-after'), '3');
    assert.equal(((await refused.json()) as { code: string }).code, 'APPINFRA_ERR_OVERLOADED');
    assert.equal((await fetch(`${url}/open`, json({}))).status, 200);
    assert.equal((await running).status, 200);
    assert.equal((await queued).status, 200);

    const health = (await (await fetch(`${url}/_health`)).json()) as { handlers?: Record<string, Record<string, number | string>> };
    // Figures travel from the engine a moment after activity.
    let handlers = health.handlers;
    for (let i = 0; i < 50 && handlers?.slow?.refused !== 1; i++) {
      await new Promise((res) => setTimeout(res, 50));
      handlers = ((await (await fetch(`${url}/_health`)).json()) as typeof health).handlers;
    }
    assert.equal(handlers?.embed?.kind, 'batch');
    assert.equal(handlers?.embed?.batchSizeMax, 4);
    assert.equal(handlers?.slow?.kind, 'limit');
    assert.equal(handlers?.slow?.refused, 1);
    assert.deepEqual(await stop(p, 'SIGINT'), { code: 130, signal: null });
  } finally {
    await stop(p, 'SIGKILL');
  }
});
