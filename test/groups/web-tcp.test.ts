/** Web processes over tcp_local (executionIpc web: true): the same routes, signed frames, restarts reconnect. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { guardLeaks, waitFor, json } from '../helpers.js';

let server: Server;
let base: string;
guardLeaks({ cleanup: () => server?.stop(5) });

before(async () => {
  server = new ServerBuilder('web-tcp')
    .withConfig({ port: 0, restartDelay: 0.1 })
    .withExecutionIpc({ web: true })
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/count', { handler: 'count', reply: 'sse' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .done()
    .uvicorn.withWorkers(2)
    .done()
    .build();
  server.engine.handle('echo', (req: { body: unknown }) => req.body);
  server.engine.handle('count', async function* () {
    for (let i = 0; i < 5; i++) yield { i };
  });
  base = (await server.listen()).url;
});

test('requests and streams travel over signed tcp_local links from both web processes', async () => {
  const before = server.tcpLocalStats!.accepted;
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${base}/echo`, json({ i }));
    assert.deepEqual(await r.json(), { i });
  }
  const sse = await (await fetch(`${base}/count`)).text();
  assert.equal(sse.match(/^data: /gm)?.length, 5);
  assert.ok(server.tcpLocalStats!.accepted >= before + 21, 'the requests arrived as signed frames');
  assert.deepEqual(Object.values(server.tcpLocalStats!.refused).reduce((a, b) => a + b, 0), 0);
});

test('kill -9 of a web process: its replacement connects over tcp_local again and serves', async () => {
  const victim = server.processes[0]!.pid!;
  process.kill(victim, 'SIGKILL');
  await waitFor(() => server.processes.length === 2 && server.processes.every((p) => p.pid !== victim), 15_000, 'the replacement');
  for (let i = 0; i < 10; i++) assert.equal((await fetch(`${base}/echo`, json({ i }))).status, 200);
});
