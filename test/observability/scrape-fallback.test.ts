import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, guardLeaks, waitFor } from '../helpers.js';
import { spawnScript } from '../proc.js';
import { parsePromText, has } from './prom-text.js';
import { statusSnapshot } from '../../src/observability/status/snapshot.js';

guardLeaks();

test('a scrape while the engine blocks the main process is answered with the web process\'s own figures', { timeout: 60000 }, async () => {
  const port = await freePort();
  const proc = spawnScript('test/observability/fixtures/blocking-main.ts', [], { PORT: String(port), BLOCK_MS: '5000' });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/_health`).catch(() => undefined))?.ok === true, 30000, 'the server');
    const whole = parsePromText(await (await fetch(`${base}/metrics`)).text());
    assert.ok(has(whole, 'appinfra_event_loop_lag_seconds', { process: 'engine' }), 'normally the engine is in the scrape');
    const blocked = fetch(`${base}/block`);
    // The engine's loop is held for 5 s; the web process waits 2 s for the main process, then answers alone.
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    const alone = parsePromText(await res.text());
    assert.equal(has(alone, 'appinfra_event_loop_lag_seconds', { process: 'engine' }), false);
    assert.ok(has(alone, 'appinfra_ipc_pending'), 'the web process\'s own figures');
    const done = await blocked;
    assert.equal(done.status, 200);
    await done.text();
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
});

test('the status snapshot marks the engine "not answering" when only web processes sent figures', () => {
  const web = [{ name: 'appinfra_ipc_pending', values: [{ value: 2, labels: { process: 'app.w0.g1' } }] }];
  const snap = statusSnapshot(web);
  assert.deepEqual(snap.processes.map((p) => [p.name, p.role, p.state]), [['engine', 'engine', 'not answering'], ['app.w0.g1', 'web', 'up']]);
  const withEngine = statusSnapshot([...web, { name: 'appinfra_engine_pending', values: [{ value: 1, labels: { process: 'engine' } }] }]);
  assert.deepEqual(withEngine.processes.map((p) => [p.name, p.state, p.pending]), [['engine', 'up', 1], ['app.w0.g1', 'up', 2]]);
});
