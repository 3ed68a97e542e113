import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../browser.js';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { assertNoLeaks, json, resourcesNow } from '../helpers.js';

const TOKEN = 'status-token-for-the-test-0123';

let baseline: string[];
let server: Server;
let base: string;
let browser: Browser;

before(async () => {
  baseline = resourcesNow();
  server = new ServerBuilder('status')
    .withPort(0)
    .withTitle('Status Under Test')
    .withMetrics()
    .withStatusPage({ token: TOKEN })
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/count', { handler: 'count', reply: 'sse' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .done()
    .uvicorn.withWorkers(2)
    .done()
    .build();
  server.engine.handle('echo', (req) => req.body);
  server.engine.handle('count', async function* () {
    for (let i = 0; i < 3; i++) yield { i };
  });
  base = (await server.listen()).url;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server.stop(2);
  await assertNoLeaks(baseline);
});

test('the status page and its event stream need the token', async () => {
  for (const path of ['/_status', '/_status/events']) {
    const r = await fetch(`${base}${path}`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.equal(((await r.json()) as { code: string }).code, 'APPINFRA_ERR_STATUS_TOKEN');
    const wrong = await fetch(`${base}${path}?token=${TOKEN.slice(0, -1)}x`);
    assert.equal(wrong.status, 401);
    await wrong.text();
  }
  const ok = await fetch(`${base}/_status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type')!, /^text\/html/);
  assert.match(await ok.text(), /Status Under Test/);
});

test('in Chromium: loads without console errors, lists processes and routes, and its counter rises with traffic', { timeout: 60000 }, async () => {
  for (let i = 0; i < 5; i++) await (await fetch(`${base}/echo`, json({ i }))).text();
  await (await fetch(`${base}/count`)).text();
  const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  let sending = true;
  let sent = 0;
  const traffic = (async () => {
    while (sending) {
      await (await fetch(`${base}/echo`, json({ sent }))).text();
      sent++;
    }
  })();
  try {
    await page.goto(`${base}/_status?token=${TOKEN}`);
    await page.waitForFunction(() => document.querySelector('#routes')?.textContent?.includes('/echo'), undefined, { timeout: 20000 });
    assert.match((await page.textContent('#routes'))!, /\/count/);
    const processes = (await page.textContent('#processes'))!;
    assert.match(processes, /engine/);
    assert.match(processes, /status\.w0\./);
    assert.match(processes, /status\.w1\./);
    const first = Number(await page.textContent('#total-requests'));
    assert.ok(first >= 6, `the counter shows what was served: ${first}`);
    await page.waitForFunction((n) => Number(document.querySelector('#total-requests')?.textContent) > n, first, { timeout: 20000 });
    // A rate is shown once two snapshots are in.
    await page.waitForFunction(() => Number(document.querySelector('#rps')?.textContent) > 0, undefined, { timeout: 20000 });
    await page.waitForFunction(() => (document.querySelector('#spark-rps polyline')?.getAttribute('points') ?? '').split(' ').length >= 2, undefined, { timeout: 20000 });
    if (process.env.APPINFRA_STATUS_SCREENSHOT) await page.screenshot({ path: process.env.APPINFRA_STATUS_SCREENSHOT });
  } finally {
    sending = false;
    await traffic;
    await page.close();
  }
  assert.deepEqual(problems, []);
  assert.ok(sent > 0);
});
