/** A group process started by hand (not by the server) joins with the connect file, serves, and leaves without a restart. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerBuilder, type Server } from '../../src/index.js';
import { withEchoGroup } from './fixtures/server.js';
import { guardLeaks, waitFor, json } from '../helpers.js';
import { spawnScript, type Spawned } from '../proc.js';

const ENTRY = fileURLToPath(new URL('../../src/runtime/group/entry.ts', import.meta.url));
let server: Server;
let base: string;
let external: Spawned | undefined;
const dir = guardLeaks({
  tmp: 'group-external-',
  cleanup: async () => {
    external?.child.kill('SIGKILL');
    await external?.exited;
    await server?.stop(5);
  },
});
const connectFile = join(dir, 'connect.json');

before(async () => {
  server = withEchoGroup(new ServerBuilder('external').withPort(0).withExecutionIpc({ connectFile }), 'cpu');
  base = (await server.listen()).url;
});

test('the connect file is private; a process started with it joins the group and is dispatched to; when it leaves nothing restarts it', async () => {
  assert.equal(statSync(connectFile).mode & 0o777, 0o600);
  external = spawnScript(ENTRY, ['--connect-file', connectFile, '--group', 'cpu']);
  const pid = external.child.pid!;
  await waitFor(() => server.groupStatus[0]!.processes.some((p) => p.slot === 'external' && p.pid === pid), 30_000, 'the external process to join');
  const pids = new Set<number>();
  for (let i = 0; i < 10 && !pids.has(pid); i++) {
    const r = await fetch(`${base}/echo`, json({ i }));
    pids.add(((await r.json()) as { pid: number }).pid);
  }
  assert.ok(pids.has(pid), 'the external process served a request');
  external.child.kill('SIGTERM');
  await external.exited;
  await waitFor(() => !server.groupStatus[0]!.processes.some((p) => p.slot === 'external'), 5000, 'the external process to leave the group');
  assert.equal(server.groupStatus[0]!.state, 'ok', 'the supervised process keeps serving');
  assert.equal((await fetch(`${base}/echo`, json({}))).status, 200);
});
