import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerBuilder, type Server } from '../../src/index.js';
import { guardLeaks, waitFor } from '../helpers.js';

const dir = guardLeaks({ tmp: 'appinfra-uvicorn-' });

interface Answer {
  socket: Socket;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, options: https.RequestOptions = {}): Promise<Answer> {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    lib
      .get(url, options, (res) => {
        // Taken now: the response lets go of its socket once it has ended.
        const socket = res.socket;
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ socket, status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

async function withServer(build: (b: ServerBuilder) => ServerBuilder, fn: (url: string, server: Server) => Promise<void>): Promise<void> {
  const server = build(new ServerBuilder('uvicorn').withPort(0)).build();
  const { url } = await server.listen();
  try {
    await fn(url, server);
  } finally {
    await server.stop(2);
  }
}

const hello = async (): Promise<unknown> => ({ hello: 'world' });

test('timeoutKeepAlive is announced in Keep-Alive and the idle socket is then closed by the server', async () => {
  await withServer(
    (b) => b.routes.withRoute('/x', hello).done().uvicorn.withTimeoutKeepAlive(1).done(),
    async (url) => {
      // A raw socket: Node's Agent would close the idle socket itself before the server's timeout.
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8').on('data', (c: string) => (received += c));
      socket.write('GET /x HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n');
      await once(socket, 'end');
      socket.destroy();
      assert.match(received, /^HTTP\/1\.1 200/);
      assert.match(received, /\r\nKeep-Alive: timeout=1\r\n/i);
      assert.match(received, /\r\nConnection: keep-alive\r\n/i);
    },
  );
});

test('timeoutKeepAlive 0 closes the connection after each response, as uvicorn does', async () => {
  await withServer(
    (b) => b.routes.withRoute('/x', hello).done().uvicorn.withTimeoutKeepAlive(0).done(),
    async (url) => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const r = await request(`${url}/x`, { agent });
        assert.equal(r.status, 200);
        assert.equal(r.headers.connection, 'close');
      } finally {
        agent.destroy();
      }
    },
  );
});

test('limitConcurrency: past the limit a request gets 503 with Retry-After at once; freed slots serve again', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered = 0;
  let bothInside!: () => void;
  const inside = new Promise<void>((r) => (bothInside = r));
  await withServer(
    (b) =>
      b.routes
        .withRoute('/hold', async () => {
          if (++entered === 2) bothInside();
          await gate;
          return { held: true };
        })
        .withRoute('/x', hello)
        .done()
        .uvicorn.withLimitConcurrency(2)
        .done(),
    async (url) => {
      const held = [request(`${url}/hold`), request(`${url}/hold`)];
      await inside;
      const over = await request(`${url}/x`);
      assert.equal(over.status, 503);
      assert.equal(over.headers['retry-after'], '1');
      assert.match(JSON.parse(over.body).message, /limit 2/);
      release();
      for (const r of await Promise.all(held)) assert.equal(r.status, 200);
      assert.equal((await request(`${url}/x`)).status, 200);
      assert.equal((await request(`${url}/x`)).status, 200);
    },
  );
});

test('limitConcurrency: a client that goes away frees its slot', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let markEntered!: () => void;
  const entered = new Promise<void>((r) => (markEntered = r));
  await withServer(
    (b) =>
      b.routes
        .withRoute('/hold', async () => {
          markEntered();
          await gate;
          return {};
        })
        .withRoute('/x', hello)
        .done()
        .uvicorn.withLimitConcurrency(1)
        .done(),
    async (url) => {
      const controller = new AbortController();
      const held = fetch(`${url}/hold`, { signal: controller.signal }).catch((err: Error) => err.name);
      await entered;
      assert.equal((await request(`${url}/x`)).status, 503);
      controller.abort();
      assert.equal(await held, 'AbortError');
      // The handler is still waiting, but its client is gone: the slot is free again.
      await waitFor(async () => (await request(`${url}/x`)).status === 200, 5000, 'the slot to be released');
      release();
    },
  );
});

test('backlog, workers 1 and limitMaxRequests are accepted in direct mode and the server serves', async () => {
  await withServer(
    (b) => b.routes.withRoute('/x', hello).done().uvicorn.withBacklog(16).withWorkers(1).withLimitMaxRequests(1000).done(),
    async (url, server) => {
      assert.equal(server.config.uvicorn.backlog, 16);
      assert.equal(server.config.uvicorn.limitMaxRequests, 1000);
      assert.equal((await request(`${url}/x`)).status, 200);
    },
  );
});

test('withSsl serves HTTPS with the given key and certificate', async () => {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  await withServer(
    (b) => b.routes.withRoute('/x', hello).done().uvicorn.withSsl(key, cert).done(),
    async (url) => {
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      // Trusting exactly this certificate proves the server presented it.
      const r = await request(`${url}/x`, { ca: readFileSync(cert) });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { hello: 'world' });
      await assert.rejects(request(`${url.replace('https:', 'http:')}/x`), 'plain HTTP is not served');
    },
  );
});

test('withSsl with a missing file fails at listen() naming the setting and the path', async () => {
  const server = new ServerBuilder('ssl').withPort(0).uvicorn.withSsl(join(dir, 'nope.key'), join(dir, 'nope.crt')).done().build();
  await assert.rejects(server.listen(), /uvicorn\.sslKeyfile: cannot read .*nope\.key \(ENOENT\)/);
  assert.equal(server.isRunning, false);
});
