import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../../examples/protocols/http2.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';
import { closeH2, connectH2, h2Fetch } from './h2client.js';

let baseline: string[];
let close: () => Promise<void>;
let url: string;

before(async () => {
  baseline = resourcesNow();
  const made = createServer({ port: 0 });
  close = made.close;
  ({ url } = await made.server.listen());
  assert.equal(made.server.processes.length, 1, 'served from a web process');
});

after(async () => {
  await close();
  await assertNoLeaks(baseline);
});

test('h2c without TLS: JSON and SSE over prior-knowledge HTTP/2', async () => {
  assert.match(url, /^http:/);
  const session = await connectH2(url);
  try {
    assert.equal(session.alpnProtocol, 'h2c');
    const json = await h2Fetch(session, '/hello');
    assert.deepEqual(JSON.parse(json.body), { message: 'Hello, world!' });
    const sse = await h2Fetch(session, '/events?count=2');
    assert.equal(sse.body, 'data: {"n":0}\n\ndata: {"n":1}\n\n');
  } finally {
    await closeH2(session);
  }
});

