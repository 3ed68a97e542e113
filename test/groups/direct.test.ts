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
    .withMetrics()
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

test('/metrics carries the group per process and the tcp_local listener: served moves by exactly the requests sent', async () => {
  const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} in:\n${text.split('\n').filter((l) => l.includes('group') || l.includes('tcp_local')).join('\n')}`);
    return Number(line.slice(series.length + 1));
  };
  const before = await scrape();
  const served = value(before, 'appinfra_group_served_total{group="cpu",slot="0"}');
  for (let i = 0; i < 3; i++) await (await fetch(`${base}/echo`, json({ i }))).arrayBuffer();
  const after = await scrape();
  assert.equal(value(after, 'appinfra_group_served_total{group="cpu",slot="0"}'), served + 3);
  assert.equal(value(after, 'appinfra_group_ready{group="cpu",slot="0"}'), 1);
  assert.equal(value(after, 'appinfra_group_state{group="cpu",state="ok"}'), 1);
  assert.equal(value(after, 'appinfra_group_pending{group="cpu",slot="0"}'), 0);
  assert.ok(value(after, 'appinfra_tcp_local_accepted_total') > value(before, 'appinfra_tcp_local_accepted_total'));
  assert.equal(value(after, 'appinfra_tcp_local_refused_total{reason="bad_signature"}'), 0);
});
