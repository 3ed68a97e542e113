import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createServer, selfSignedCert } from '../../examples/protocols/http2.js';
import { ServerBuilder } from '../../src/index.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';
import { closeH2, connectH2, h2Fetch } from './h2client.js';

let baseline: string[];
let tls: ReturnType<typeof selfSignedCert>;
let ca: Buffer;
const servers: { url: string; close: () => Promise<void> }[] = [];

before(async () => {
  baseline = resourcesNow();
  tls = selfSignedCert();
  ca = readFileSync(tls.cert);
  // One server per test file: files run in their own processes, so port 0 never collides.
  const made = createServer({ port: 0, tls });
  const { url } = await made.server.listen();
  assert.equal(made.server.processes.length, 1, 'served from a web process');
  servers.push({ url, close: made.close });
});

after(async () => {
  for (const s of servers) await s.close();
  rmSync(tls.dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

test('h2 over TLS: ALPN picks h2; a JSON route answers over it', async () => {
  const [tlsServer] = servers;
  assert.match(tlsServer!.url, /^https:/);
  const session = await connectH2(tlsServer!.url, ca);
  try {
    assert.equal(session.alpnProtocol, 'h2');
    const res = await h2Fetch(session, '/hello?name=h2');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { message: 'Hello, h2!' });
    // Several streams at once on one connection.
    const many = await Promise.all([1, 2, 3, 4].map((i) => h2Fetch(session, `/hello?name=${i}`)));
    assert.deepEqual(many.map((r) => JSON.parse(r.body).message), ['Hello, 1!', 'Hello, 2!', 'Hello, 3!', 'Hello, 4!']);
  } finally {
    await closeH2(session);
  }
});

test('h2 over TLS: an SSE route streams its events', async () => {
  const session = await connectH2(servers[0]!.url, ca);
  try {
    const res = await h2Fetch(session, '/events?count=3');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    assert.equal(res.body, 'data: {"n":0}\n\ndata: {"n":1}\n\ndata: {"n":2}\n\n');
  } finally {
    await closeH2(session);
  }
});

test('the TLS server falls back to HTTP/1.1 for a client that does not offer h2', async () => {
  const { version, status, body } = await new Promise<{ version: string; status: number; body: string }>((resolve, reject) => {
    https
      .get(`${servers[0]!.url}/hello?name=h1`, { ca, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ version: res.httpVersion, status: res.statusCode ?? 0, body: text }));
      })
      .on('error', reject);
  });
  assert.equal(version, '1.1');
  assert.equal(status, 200);
  assert.deepEqual(JSON.parse(body), { message: 'Hello, h1!' });
});

test('http2 is validated as a boolean at build()', () => {
  assert.throws(() => new ServerBuilder('x').uvicorn.withHttp2('yes' as unknown as boolean).done().build(), /uvicorn\.http2/);
});
