import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, resourcesNow, waitFor } from '../helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/foundation/log-server.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  url: string;
  lines: () => Record<string, any>[];
}

/** Starts the fixture with these uvicorn settings and waits for its address. */
async function startLogServer(uvicorn: Record<string, unknown>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, FOUNDATION_UVICORN: JSON.stringify(uvicorn) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const lines = (): Record<string, any>[] =>
    out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  await waitFor(() => lines().some((l) => l.listening), 20000, 'the log server to listen');
  return { child, url: lines().find((l) => l.listening)!.listening as string, lines };
}

/** SIGTERM, then wait for a clean exit: after that, stdout is complete. */
async function finish(run: Run): Promise<Record<string, any>[]> {
  const exited = once(run.child, 'exit');
  run.child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
  return run.lines();
}

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

test('accessLog: one line per response with method, path, protocol and status; none when off', async () => {
  const [on, off] = await Promise.all([
    startLogServer({ accessLog: true, logLevel: 'warning' }),
    startLogServer({ accessLog: false, logLevel: 'info' }),
  ]);
  for (const run of [on, off]) {
    assert.equal((await fetch(`${run.url}/ok`)).status, 200);
    assert.equal((await fetch(`${run.url}/missing`)).status, 404);
  }
  const onLines = (await finish(on)).filter((l) => l.logger === 'access');
  assert.deepEqual(
    onLines.map((l) => l.msg),
    ['127.0.0.1 - "GET /ok HTTP/1.1" 200', '127.0.0.1 - "GET /missing HTTP/1.1" 404'],
  );
  assert.equal(onLines[0]!.statusCode, 200);
  assert.equal(onLines[0]!.method, 'GET');
  const offLines = await finish(off);
  assert.deepEqual(offLines.filter((l) => l.logger === 'access'), []);
  // logLevel info: the server's own info lines are there.
  assert.ok(offLines.some((l) => l.level === 30), 'info lines at logLevel info');
});

test('logLevel: warning logs a failed request, critical does not, and neither logs info', async () => {
  const [warning, critical] = await Promise.all([startLogServer({ logLevel: 'warning' }), startLogServer({ logLevel: 'critical' })]);
  for (const run of [warning, critical]) assert.equal((await fetch(`${run.url}/fail`)).status, 500);
  const w = await finish(warning);
  assert.ok(w.some((l) => l.level === 50 && l.err?.message === 'logged failure'), 'the 500 is logged with its error');
  assert.ok(!w.some((l) => l.level < 40 && !l.listening), 'nothing below warning');
  const c = await finish(critical);
  assert.deepEqual(c.filter((l) => !l.listening), [], 'critical logs nothing here');
});
