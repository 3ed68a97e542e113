/**
 * `npm start -- measure` in direct mode: while a handler holds the event loop, a client
 * sends a request on a keep-alive connection it had used just before. The server must
 * answer it once the loop is free, not reset the connection because its idle timer
 * expired while the loop could not read the request.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertNoLeaks, resourcesNow } from '../helpers.js';
import { start, stop } from './proc.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/blocking-direct.ts', import.meta.url));

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

function get(url: string, agent: Agent | false): Promise<{ res: IncomingMessage; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ res, body, socket: req.socket! }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('direct mode: a keep-alive request sent while the loop is blocked past the keep-alive timeout is answered, and an idle connection still expires', async () => {
  // 2 s keep-alive (Node waits 1 s more before closing): a 4.5 s block outlasts it.
  const p = start(FIXTURE, [], { KEEP_ALIVE: '2' });
  // One connection, kept by the client for as long as the server keeps it.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const url = (await p.waitForOutput(/listening on (\S+)/))[1]!;
    const first = await get(`${url}/ping`, agent);
    assert.equal(first.res.statusCode, 200);
    assert.equal(first.res.headers['keep-alive'], 'timeout=2');

    const blocked = get(`${url}/block?ms=4500`, false);
    await sleep(300);
    // Within the keep-alive window as the client sees it; the server reads it after the block.
    const probe = await get(`${url}/ping`, agent);
    assert.equal(probe.socket, first.socket, 'the probe reused the keep-alive connection');
    assert.equal(probe.res.statusCode, 200);
    assert.deepEqual(JSON.parse(probe.body), { ok: true });
    assert.equal((await blocked).res.statusCode, 200);

    // Nothing blocks now: an idle connection is closed by the server after the timeout.
    const idleSince = Date.now();
    await once(probe.socket, 'close');
    const idle = Date.now() - idleSince;
    assert.ok(idle >= 1500 && idle < 6000, `idle connection closed after ${idle} ms`);
  } finally {
    agent.destroy();
    await stop(p);
  }
});
