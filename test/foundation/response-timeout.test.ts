/**
 * One deadline for an engine request: `api.responseTimeout` (withTimeout). The seed has no
 * IPC timeout; `ipc.responseTimeout` (.subprocess.withResponseTimeout) is its alias, so a
 * forward route and a route module's `ipc.submit` can no longer wait for different times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, ConfigError, configFromObject, type Server } from '../../src/index.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';

test('subprocess mode: .subprocess.withResponseTimeout alone is the deadline of a forward route (504)', async () => {
  const baseline = resourcesNow();
  const server: Server = new ServerBuilder('deadline')
    .withPort(0)
    .routes.withForward('/never', { handler: 'never' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .withResponseTimeout(0.3)
    .done()
    .build();
  server.engine.handle('never', () => new Promise(() => undefined));
  try {
    assert.equal(server.config.responseTimeout, 0.3);
    const { url } = await server.listen();
    const started = performance.now();
    const res = await fetch(`${url}/never`, { signal: AbortSignal.timeout(10_000) });
    const ms = performance.now() - started;
    assert.equal(res.status, 504);
    assert.ok(ms < 5000, `answered after ${Math.round(ms)} ms`);
  } finally {
    await server.stop(1);
  }
  await assertNoLeaks(baseline);
});

test('two different values for the one deadline are refused, in code and in a config file', () => {
  assert.throws(
    () => new ServerBuilder('x').withTimeout(2).subprocess.withIpc(new Queue(), new Queue()).withResponseTimeout(3).done().build(),
    (err: unknown) => err instanceof ConfigError && /ipc\.responseTimeout: got 3, expected the same as api\.responseTimeout \(2\)/.test(err.message),
  );
  assert.throws(
    () => configFromObject({ api: { response_timeout: 5 }, ipc: { response_timeout: 6 } }),
    (err: unknown) => err instanceof ConfigError && /ipc\.responseTimeout: got 6/.test(err.message),
  );
  const same = configFromObject({ api: { response_timeout: 5 }, ipc: { response_timeout: 5 } });
  assert.deepEqual([same.api.responseTimeout, same.ipc.responseTimeout], [5, 5]);
  const aliasOnly = configFromObject({ ipc: { response_timeout: 7 } });
  assert.deepEqual([aliasOnly.api.responseTimeout, aliasOnly.ipc.responseTimeout], [7, 7]);
});
