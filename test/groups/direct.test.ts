/** Process groups in direct mode: HTTP in the main process, the grouped handler in a group process, through the same relay. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, type Server } from '../../src/index.js';
import { guardLeaks, json } from '../helpers.js';

let server: Server;
let base: string;
guardLeaks({ cleanup: () => server?.stop(5) });

before(async () => {
  server = new ServerBuilder('groups-direct')
    .withPort(0)
    .withProcessGroup('cpu', { module: new URL('./fixtures/handlers.ts', import.meta.url), processes: 1, handlers: ['echo'] })
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .done()
    .build();
  base = (await server.listen()).url;
});

test('direct mode: a grouped handler answers from its group process; /_health lists the group', async () => {
  const r = (await (await fetch(`${base}/echo`, json({ a: [1, 2] }))).json()) as { echo: unknown; pid: number };
  assert.deepEqual(r.echo, { a: [1, 2] });
  assert.equal(r.pid, server.groupStatus[0]!.processes[0]!.pid);
  assert.notEqual(r.pid, process.pid);
  const health = (await (await fetch(`${base}/_health`)).json()) as { groups: { name: string; state: string }[] };
  assert.deepEqual(health.groups.map((g) => [g.name, g.state]), [['cpu', 'ok']]);
});
