/**
 * Makes docs/status-page.png: starts the demo (`npm start`), sends it steady short
 * completions (autocannon, in a process of its own) and a long one every few seconds,
 * and photographs /_status in headless Chromium once the sparklines have some history.
 *
 *   node --import tsx scripts/status-screenshot.ts [out.png] [seconds]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const out = process.argv[2] ?? 'docs/status-page.png';
const seconds = Number(process.argv[3] ?? 40);
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const base = `http://127.0.0.1:${port}`;
const children: ChildProcess[] = [];
const run = (cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess => {
  const c = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, ...env } });
  children.push(c);
  return c;
};
try {
  run(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts'], { PORT: String(port) });
  for (let i = 0; ; i++) {
    if (i > 200) throw new Error('the demo did not start');
    if ((await fetch(`${base}/_health`).catch(() => undefined))?.ok) break;
    await sleep(100);
  }
  const body = JSON.stringify({ prompt: 'The web process stays', max_tokens: 4 });
  run('node_modules/.bin/autocannon', ['-c', '4', '-d', String(seconds + 5), '-m', 'POST', '-H', 'content-type=application/json', '-b', body, `${base}/v1/completions`]);
  let going = true;
  const long = (async () => {
    while (going) {
      await fetch(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 120 }) }).then((r) => r.text());
      await sleep(5000);
    }
  })();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  await page.goto(`${base}/_status`);
  await sleep(seconds * 1000);
  await page.screenshot({ path: out });
  going = false;
  await long;
  await browser.close();
  console.log(`wrote ${out}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
}
