/**
 * Several web processes on one port, each with its own link to the engine: replies go
 * back to the process that asked, a crash is confined to one process and repaired, and
 * recycling by limitMaxRequests drops nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { guardLeaks, isAlive, waitFor } from '../helpers.js';
import { hit, load } from './load.js';

const ROUTES = new URL('./fixtures/routes.ts', import.meta.url).href;
const servers: Server[] = [];
guardLeaks({ cleanup: () => Promise.all(servers.map((s) => (s.isRunning ? s.stop(1) : undefined))) });

/** `/token` answers with the request's own token after a random short delay, so replies interleave. */
function build(workers: number, configure: (b: ServerBuilder) => ServerBuilder = (b) => b): Server {
  const b = new ServerBuilder('workers')
    .withPort(0)
    .routes.withForward('/token', { methods: ['POST'], handler: 'token' })
    .withForward('/hold', { handler: 'hold' })
    .fromModule(ROUTES)
    .done()
    .uvicorn.withWorkers(workers)
    .done();
  const server = configure(b).subprocess.withIpc(new Queue(), new Queue()).withMaxPending(1000).withAutoRestart(true, 0.05, 5).done().build();
  server.engine.handle('token', async (req: { body: { token: string } }) => {
    await sleep(Math.random() * 5);
    return { token: req.body.token };
  });
  servers.push(server);
  return server;
}

/** Asks /whoami until every web process has answered at least once (the kernel picks who accepts). */
async function whoServes(url: string, expected: number): Promise<Map<number, string>> {
  const seen = new Map<number, string>();
  await waitFor(async () => {
    const replies = await Promise.all(Array.from({ length: 16 }, () => hit(`${url}/whoami`)));
    for (const r of replies) {
      const { pid, replyTo } = JSON.parse(r.body) as { pid: number; replyTo: string };
      seen.set(pid, replyTo);
    }
    return seen.size >= expected;
  }, 10_000, `${expected} web processes to answer`);
  return seen;
}

/** Registers the engine handler 'hold': every request waits until the returned release() is called. */
function holdUntilReleased(server: Server): () => void {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  server.engine.handle('hold', async () => {
    await released;
    return { ok: true };
  });
  return release;
}

test('n workers share one port (port 0 too), each with its own link; no reply crosses to another client', async () => {
  const server = build(3);
  await server.listen();
  assert.equal(server.processes.length, 3);
  const seen = await whoServes(server.address!.url, 3);
  assert.deepEqual([...seen.keys()].sort(), server.processes.map((p) => p.pid).sort());
  assert.equal(new Set(seen.values()).size, 3, 'each web process has its own reply-to address');

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const result = await load(`${server.address!.url}/token`, 64, 30, agent);
  agent.destroy();
  assert.deepEqual(result.failures, []);
  assert.equal(result.ok, 64 * 30);
  await server.stop(2);
});

test('kill -9 of one worker under load: the others keep serving, its pending requests are dropped by the engine, a replacement serves', async () => {
  const server = build(2);
  const release = holdUntilReleased(server);
  await server.listen();
  const url = server.address!.url;
  const links = await whoServes(url, 2);
  const [victimPid, survivorPid] = [...links.keys()] as [number, number];
  const victimLink = links.get(victimPid)!;
  const survivorLink = links.get(survivorPid)!;

  // Requests held by the engine, until both processes have some (the kernel picks who accepts).
  const held: Promise<number | string>[] = [];
  const pendingOf = (link: string): number => server.engine.pendingByReplyTo()[link] ?? 0;
  await waitFor(async () => {
    for (let i = 0; i < 10; i++) held.push(hit(`${url}/hold`).then((r) => r.status, (err: Error) => err.message));
    await waitFor(() => server.engine.pendingCount === held.length, 5000, 'held requests to reach the engine');
    return pendingOf(victimLink) >= 3 && pendingOf(survivorLink) >= 3;
  }, 10_000, 'both workers to hold requests');
  const onVictim = pendingOf(victimLink);
  const onSurvivor = pendingOf(survivorLink);

  // Load runs through the crash.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const during = load(`${url}/token`, 16, 40, agent);
  const lostBefore = server.engine.stats.lostWithLink;
  const replaced = new Promise<{ pid: number | undefined }>((resolve) => server.once('started', resolve));
  process.kill(victimPid, 'SIGKILL');

  // The engine forgot the dead process's requests at once: none pending for its link, counted as lost.
  await waitFor(() => pendingOf(victimLink) === 0, 5000, "the dead worker's pending requests to be dropped");
  assert.equal(server.engine.stats.lostWithLink - lostBefore, onVictim);
  // The load's own requests may be pending too; the held ones all still are (and complete below).
  assert.ok(pendingOf(survivorLink) >= onSurvivor, "the other worker's requests are untouched");

  const replacement = await replaced;
  assert.notEqual(replacement.pid, victimPid);
  release();
  const statuses = await Promise.all(held);
  assert.equal(statuses.filter((s) => s === 200).length, onSurvivor, 'every request held by the surviving worker completes');
  assert.equal(statuses.filter((s) => typeof s === 'number' && s !== 200).length, 0, 'no request got an error status');

  const result = await during;
  agent.destroy();
  // Only requests that were on the killed process's connections can fail, and only as network errors.
  assert.deepEqual(result.failures.filter((f) => !f.startsWith('network:')), []);
  assert.ok(result.ok > 0);
  assert.equal(isAlive(victimPid), false);
  // Serving again on the same port with two workers: the replacement and the one that was never touched.
  const now = await whoServes(url, 2);
  assert.ok(now.has(replacement.pid!));
  assert.ok(now.has(survivorPid), 'the other worker kept running');
  assert.equal(server.restarts, 1);
  await server.stop(2);
});

test('limitMaxRequests recycles workers under keep-alive load without losing a request', async () => {
  const server = build(2, (b) => b.uvicorn.withLimitMaxRequests(100).done());
  const recycled: number[] = [];
  server.on('recycle', ({ pid }) => recycled.push(pid!));
  await server.listen();
  const first = server.processes.map((p) => p.pid!);
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  // Load goes on until both original workers were replaced and have drained and exited.
  const result = await load(`${server.address!.url}/token`, 32, 20, agent, () => first.some((pid) => isAlive(pid)));
  agent.destroy();
  assert.deepEqual(result.failures, []);
  assert.ok(result.ok >= 32 * 20);
  assert.ok(recycled.includes(first[0]!) && recycled.includes(first[1]!), 'both original workers were recycled');
  assert.equal(server.restarts, 0, 'a recycle is not a crash');
  assert.equal(server.processes.length, 2);
  assert.ok(server.processes.every((p) => !first.includes(p.pid!)));
  await server.stop(2);
});

test('limitConcurrency applies to each worker on its own', async () => {
  const server = build(2, (b) => b.uvicorn.withLimitConcurrency(1).done());
  const release = holdUntilReleased(server);
  await server.listen();
  const url = server.address!.url;
  await whoServes(url, 2);
  // Keep sending until both workers hold one request each: two in progress in total, one per process.
  const held: Promise<number>[] = [];
  await waitFor(async () => {
    held.push(hit(`${url}/hold`).then((r) => r.status));
    await sleep(30);
    return server.engine.pendingCount === 2;
  }, 10_000, 'one request held in each worker');
  assert.deepEqual(Object.values(server.engine.pendingByReplyTo()), [1, 1]);
  // Now every worker is at its limit: a new request is refused at once.
  assert.equal((await hit(`${url}/hold`)).status, 503);
  release();
  const statuses = await Promise.all(held);
  assert.equal(statuses.filter((s) => s === 200).length, 2);
  assert.ok(statuses.every((s) => s === 200 || s === 503));
  await server.stop(2);
});
