/** Slow client over HTTP/2 (h2c): a paused h2 stream's flow-control window parks the engine. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { assertNoLeaks, resourcesNow } from '../helpers.js';
import { assertPausedAndResumes, startFlood } from './flood.js';
import { closeH2, connectH2, h2Request } from './h2client.js';

let baseline: string[];
let flood: ReturnType<typeof startFlood>;
let h2cUrl: string;

before(async () => {
  baseline = resourcesNow();
  flood = startFlood(true);
  h2cUrl = (await flood.server.listen()).url;
});

after(async () => {
  await flood.close();
  await assertNoLeaks(baseline);
});

test('SSE over h2c: a paused HTTP/2 stream (flow control) parks the engine', async (t) => {
  const session = await connectH2(h2cUrl);
  try {
    const req = h2Request(session, { ':path': '/flood', ':method': 'POST', 'content-type': 'application/json' }, { tag: 'sse-h2c' });
    const [headers] = (await once(req, 'response')) as [Record<string, unknown>];
    assert.equal(headers[':status'], 200);
    await once(req, 'data');
    req.pause();
    await assertPausedAndResumes(
      t,
      'sse-h2c',
      flood.server,
      () => {
        req.on('data', () => undefined);
        req.resume();
      },
      () => req.close(),
    );
  } finally {
    await closeH2(session);
  }
});
