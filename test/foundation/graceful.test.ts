import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { ServerBuilder, type Server } from '../../src/index.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** A server whose `/slow` waits for `release()`; `entered` resolves once a request is inside. */
function gatedServer(): { server: Server; release: () => void; entered: Promise<void> } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let markEntered!: () => void;
  const entered = new Promise<void>((r) => (markEntered = r));
  const server = new ServerBuilder('graceful')
    .withPort(0)
    .routes.withRoute('/slow', async () => {
      markEntered();
      await gate;
      return { finished: true };
    })
    .withRoute('/fast', async () => ({ fast: true }))
    .done()
    // A keep-alive timeout far longer than any test: if idle sockets held the close, the test would time out.
    .uvicorn.withTimeoutKeepAlive(600)
    .done()
    .build();
  return { server, release, entered };
}

test('stop() lets the in-flight request finish with 200, refuses new connections, and idle keep-alive sockets do not hold it', { timeout: 30000 }, async () => {
  const { server, release, entered } = gatedServer();
  const { url } = await server.listen();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const busyAgent = new http.Agent({ keepAlive: true });
  try {
    // Three idle keep-alive connections in the agent's pool.
    await Promise.all([get(`${url}/fast`, agent), get(`${url}/fast`, agent), get(`${url}/fast`, agent)]);
    const idle = Object.values(agent.freeSockets).flat();
    assert.ok(idle.length >= 1, 'the agent holds idle keep-alive sockets');
    const idleClosed = idle.map((s) => new Promise<void>((r) => s!.once('close', () => r())));

    // Its own keep-alive agent, so it does not take one of the idle sockets above.
    const slow = get(`${url}/slow`, busyAgent);
    await entered;
    let stopDone = false;
    // The stop timeout is far longer than the test's: stop must end because everything closed, not because it gave up.
    const stopping = server.stop(600).then(() => {
      stopDone = true;
    });
    await Promise.all(idleClosed);
    assert.equal(server.isRunning, false);
    assert.equal(stopDone, false, 'stop waits for the in-flight request');

    // New connections are refused while the in-flight request is still running.
    const fresh = new http.Agent({ keepAlive: false });
    await assert.rejects(get(`${url}/fast`, fresh), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    fresh.destroy();

    release();
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { finished: true });
    assert.equal(answer.headers.connection, 'close', 'the in-flight connection is told to close');
    await stopping;
    assert.equal(stopDone, true);
  } finally {
    release();
    agent.destroy();
    busyAgent.destroy();
  }
});

test('stop(timeout) closes a request that is still running when the timeout ends', { timeout: 30000 }, async () => {
  const { server, release, entered } = gatedServer();
  const { url } = await server.listen();
  const agent = new http.Agent({ keepAlive: true });
  try {
    const slow = get(`${url}/slow`, agent).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    await entered;
    await server.stop(0.2);
    assert.equal(await slow, 'ECONNRESET');
    assert.equal(server.isRunning, false);
  } finally {
    release();
    agent.destroy();
  }
});

test('stop() twice resolves both; stop while stopping waits for the same close', async () => {
  const { server } = gatedServer();
  await server.listen();
  const [a, b] = [server.stop(1), server.stop(1)];
  await Promise.all([a, b]);
  await server.stop(1);
  assert.equal(server.isRunning, false);
});

test('stop() during a streamed response: the stream completes, then its keep-alive connection ends', { timeout: 30000 }, async () => {
  const stream = new PassThrough();
  const server = new ServerBuilder('stream')
    .withPort(0)
    .routes.withRoute('/stream', async (_req, reply) => reply.type('text/plain').send(stream))
    .done()
    .uvicorn.withTimeoutKeepAlive(600)
    .done()
    .build();
  const { url } = await server.listen();
  const agent = new http.Agent({ keepAlive: true });
  try {
    const answer = new Promise<{ status: number; body: string; socketClosed: Promise<void> }>((resolve, reject) => {
      http
        .get(`${url}/stream`, { agent }, (res) => {
          const socketClosed = new Promise<void>((r) => res.socket.once('close', () => r()));
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => {
            body += c;
            // Headers and the first chunk are out: now stop the server mid-stream.
            if (body === 'first;') void stopping.start();
          });
          res.on('end', () => resolve({ status: res.statusCode!, body, socketClosed }));
        })
        .on('error', reject);
    });
    const stopping = {
      done: undefined as Promise<void> | undefined,
      start(): void {
        this.done = server.stop(600);
        stream.end('second');
      },
    };
    stream.write('first;');
    const { status, body, socketClosed } = await answer;
    assert.equal(status, 200);
    assert.equal(body, 'first;second');
    await socketClosed;
    await stopping.done;
    assert.equal(server.isRunning, false);
  } finally {
    agent.destroy();
    if (server.isRunning) await server.stop(0);
  }
});
