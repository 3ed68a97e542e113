import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../browser.js';
import type { FastifyInstance } from 'fastify';
import { ServerBuilder, type Server } from '../../src/index.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';


let baseline: string[];
let server: Server;
let url: string;
let browser: Browser;

before(async () => {
  baseline = resourcesNow();
  server = new ServerBuilder('docs')
    .withPort(0)
    .withTitle('Docs Under Test')
    .withVersion('4.5.6')
    .routes.withRoute('/health', async () => ({ status: 'ok' }))
    .withRoute('/hello/{name}', async (req) => ({ message: `Hello, ${req.params.name}!` }), { tags: ['greetings'] })
    .withRoute('/items', async () => ({}), { methods: ['POST'], schema: { body: { type: 'object' } } })
    .withRouter(async (app: FastifyInstance) => {
      app.get('/ping', async () => ({ pong: true }));
    }, { prefix: '/api/v1', tags: ['v1'] })
    .done()
    .build();
  url = (await server.listen()).url;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server.stop(2);
  await assertNoLeaks(baseline);
});

test('/docs renders in Chromium with the title from the config and every route listed', { timeout: 60000 }, async () => {
  const page = await browser.newPage();
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  try {
    await page.goto(`${url}/docs`);
    // Swagger UI renders one block per operation once it has fetched the OpenAPI document.
    await page.locator('.opblock-summary-path').first().waitFor({ timeout: 30000 });
    const paths = await page.locator('.opblock-summary-path').evaluateAll((els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent?.trim()));
    for (const expected of ['/health', '/hello/{name}', '/items', '/api/v1/ping', '/_health']) {
      assert.ok(paths.includes(expected), `${expected} is listed; page shows ${paths.join(', ')}`);
    }
    assert.equal(await page.title(), 'Docs Under Test - Swagger UI');
    const title = await page.locator('.info .title').textContent();
    assert.match(title ?? '', /Docs Under Test/);
    assert.match(title ?? '', /4\.5\.6/);
    const tags = await page.locator('.opblock-tag').allTextContents();
    assert.ok(tags.some((t) => t.includes('greetings')), tags.join(', '));
    assert.ok(tags.some((t) => t.includes('v1')), tags.join(', '));
    assert.deepEqual(failed, [], 'every docs asset loaded');
  } finally {
    await page.close();
  }
});
