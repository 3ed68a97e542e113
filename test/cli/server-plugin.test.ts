import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { AppBuilder, ServerBuilder, ServerPlugin } from '../../src/index.js';
import { assertNoLeaks, isAlive, resourcesNow, waitFor } from '../helpers.js';
import { run, start, stop } from './proc.js';

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

const EXAMPLE3 = fileURLToPath(new URL('../../examples/03-appbuilder/main.ts', import.meta.url));
const LISTENING = /listening on (\S+) \(subprocess mode, web pid (\d+), engine pid (\d+)\)/;

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  test(`example 3: "myapp serve" serves from a web process until ${signal}, then stops it and exits ${code}`, async () => {
    const p = start(EXAMPLE3, ['serve', '--port', '0']);
    try {
      const [, url, webPid, enginePid] = await p.waitForOutput(LISTENING);
      assert.equal(Number(enginePid), p.child.pid, 'the engine is the app process itself');
      assert.notEqual(Number(webPid), p.child.pid);
      const data = (await (await fetch(`${url}/api/data`)).json()) as { data: number[]; servedBy: number; requestId: string };
      assert.deepEqual(data.data, [1, 2, 3]);
      assert.equal(data.servedBy, p.child.pid, 'the handler ran in the main process');
      assert.equal(typeof data.requestId, 'string');
      assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: 'ok' });
      const exit = await stop(p, signal);
      assert.deepEqual(exit, { code, signal: null });
      // The plugin's cleanup stopped the server: its web process is gone and the port is closed.
      await waitFor(() => !isAlive(Number(webPid)), 5000, 'web process to exit');
      await assert.rejects(fetch(`${url}/health`));
    } finally {
      await stop(p, 'SIGKILL');
    }
  });
}

test('example 3: another tool of the same app runs without starting the server; help lists both', async () => {
  const other = await run(EXAMPLE3, ['o', '--times', '2']);
  assert.equal(other.code, 0);
  assert.equal(other.stdout, 'other tool ran\nother tool ran\n');
  const help = await run(EXAMPLE3, ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /serve \[options\]\s+Start the HTTP server/);
  assert.match(help.stdout, /other\|o \[options\]\s+Run another tool of this app/);
  const bad = await run(EXAMPLE3, ['serve', '--port', '70000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port <port>' argument '70000' is invalid. expected a port number 0\.\.65535/);
});

test('ServerPlugin: custom tool name and help; the tool returns once the server stops; cleanup stops a running server', async () => {
  const server = new ServerBuilder('plugged').withPort(8000).routes.withForward('/ping', { handler: 'ping' }).done().build();
  server.engine.handle('ping', () => ({ pong: true }));
  const plugin = new ServerPlugin(server, { toolName: 'web', toolHelp: 'Run the web API' });
  let out = '';
  const app = new AppBuilder('plugged')
    .withIO({ stdout: (s) => (out += s), stderr: () => undefined })
    .tools.withPlugin(plugin)
    .done()
    .build();
  assert.equal(await app.run(['--help']), 0);
  assert.match(out, /web \[options\]\s+Run the web API/);

  const running = app.run(['web', '--port', '0']);
  await waitFor(() => /listening on (\S+) \(direct mode/.test(out), 10_000, 'server to listen');
  const url = /listening on (\S+)/.exec(out)![1]!;
  assert.notEqual(new URL(url).port, '8000', '--port overrides the configured port');
  assert.deepEqual(await (await fetch(`${url}/ping`)).json(), { pong: true });
  await server.stop();
  assert.equal(await running, 0);
  assert.equal(server.isRunning, false);

  // Cleanup on its own: a server some other code started is stopped too.
  const other = new ServerBuilder('other').withPort(0).build();
  await other.listen();
  await new ServerPlugin(other).cleanup(app);
  assert.equal(other.isRunning, false);
});
