import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, freePort, resourcesNow, waitFor } from '../helpers.js';

const main = fileURLToPath(new URL('../../examples/01-simple/main.ts', import.meta.url));


let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

test('example 01-simple serves /health and /hello/{name}, and exits cleanly on SIGTERM', { timeout: 60000 }, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = once(child, 'exit');
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health`).catch(() => undefined))?.ok === true, 30000, 'the example to serve');
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const hello = await fetch(`${base}/hello/World`);
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), { message: 'Hello, World!' });
    assert.equal((await fetch(`${base}/docs`)).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  const [code, signal] = await exited;
  assert.equal(signal, null, `killed by ${signal}: ${output}`);
  assert.equal(code, 0, output);
  assert.match(output, new RegExp(`simple-api on http://127\\.0\\.0\\.1:${port} `));
  assert.doesNotMatch(output, /error/i);
});
