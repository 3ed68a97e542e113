/**
 * Slow clients: a client that stops reading must stop the engine's generator (a bounded
 * window of chunks in flight per stream), not grow memory. One engine handler floods as
 * fast as it is allowed; the clients are a raw TCP socket (SSE over HTTP/1.1), a ws
 * client (WebSocket) and Node's http2 client (SSE over h2c), each paused mid-stream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { assertNoLeaks, resourcesNow, waitFor } from '../helpers.js';
import { assertPausedAndResumes, startFlood } from './flood.js';
import { GraphQLSocket } from './clients.js';

let baseline: string[];
let flood: ReturnType<typeof startFlood>;
let h1Url: string;

before(async () => {
  baseline = resourcesNow();
  flood = startFlood(false);
  h1Url = (await flood.server.listen()).url;
});

after(async () => {
  await flood.close();
  await assertNoLeaks(baseline);
});

test('SSE over HTTP/1.1: a raw TCP client that stops reading parks the engine', async (t) => {
  const url = new URL(h1Url);
  const sock = connect(Number(url.port), url.hostname);
  await once(sock, 'connect');
  const body = JSON.stringify({ tag: 'sse-h1' });
  sock.write(`POST /flood HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const [first] = (await once(sock, 'data')) as [Buffer];
  assert.match(first.toString('latin1'), /^HTTP\/1\.1 200/);
  sock.pause();
  await assertPausedAndResumes(
    t,
    'sse-h1',
    flood.server,
    () => {
      sock.on('data', () => undefined);
      sock.resume();
    },
    () => sock.destroy(),
  );
  await waitFor(() => sock.destroyed, 5000, 'socket closed');
});

test('WebSocket: a client that stops reading parks the engine; closing cancels it', async (t) => {
  const ws = new WebSocket(`${h1Url.replace('http', 'ws')}/flood/ws`);
  await once(ws, 'open');
  let frames = 0;
  ws.on('message', () => frames++);
  ws.send(JSON.stringify({ id: 'a', data: { tag: 'ws' } }));
  await waitFor(() => frames > 0, 10_000, 'the first frame');
  ws.pause();
  await assertPausedAndResumes(
    t,
    'ws',
    flood.server,
    () => ws.resume(),
    () => ws.terminate(),
  );
  if (ws.readyState !== WebSocket.CLOSED) await once(ws, 'close');
});


test('GraphQL subscription: a client that stops reading parks the engine; leaving cancels it', async (t) => {
  const gql = await GraphQLSocket.open(`${h1Url}/graphql`);
  gql.subscribe('f', 'subscription { flood(tag: "graphql") { seq blob } }');
  await waitFor(() => gql.events('f').length > 0, 10_000, 'the first event');
  const ws = gql.socket.ws;
  ws.pause();
  await assertPausedAndResumes(
    t,
    'graphql',
    flood.server,
    () => ws.resume(),
    () => ws.terminate(),
  );
  if (ws.readyState !== WebSocket.CLOSED) await once(ws, 'close');
});
