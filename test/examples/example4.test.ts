/**
 * Seed example 4 (examples/04-route-handler) end to end: route handlers in a module the
 * web process imports call `ipc.submit` and `ipc.submitStreaming`; the engine answers from
 * its queue loop, streams as chunks ending with `isFinal`. Real process, real HTTP, SIGTERM.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, isAlive, resourcesNow } from '../helpers.js';
import { hit, run, type Running } from './proc.js';

const MAIN = fileURLToPath(new URL('../../examples/04-route-handler/main.ts', import.meta.url));
const TOKEN_DELAY_MS = 40;

let baseline: string[];
let app: Running;
let base: string;
let webPid: number;
let enginePid: number;

before(async () => {
  baseline = resourcesNow();
  app = run(MAIN, { PORT: '0', TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) });
  const started = await app.line(/^API server started \(web pid=(\d+); engine pid=(\d+)\)$/);
  webPid = Number(started[1]);
  enginePid = Number(started[2]);
  base = (await app.line(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/))[1]!;
});

after(async () => {
  await app?.kill(webPid ? [webPid] : []);
  await assertNoLeaks(baseline);
});

interface SseResult {
  status: number;
  contentType: string | undefined;
  /** `data:` of each event, in arrival order. */
  events: string[];
  /** ms since the request was sent, per event. */
  at: number[];
  body: string;
}

/**
 * POSTs to an SSE route and reads events as they arrive. With `stopAfter`, hangs up
 * once that many events have arrived (a client that leaves mid-stream).
 */
function sse(path: string, body: unknown, stopAfter?: number): Promise<SseResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      const out: SseResult = { status: res.statusCode ?? 0, contentType: res.headers['content-type'], events: [], at: [], body: '' };
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        out.body += chunk;
        pending += chunk;
        let cut: number;
        while ((cut = pending.indexOf('\n\n')) >= 0) {
          const event = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (data !== undefined) {
            out.events.push(data.slice(6));
            out.at.push(performance.now() - t0);
          }
        }
        if (stopAfter !== undefined && out.events.length >= stopAfter) {
          req.destroy();
          resolve(out);
        }
      });
      res.on('end', () => resolve(out));
      res.on('error', (err) => (stopAfter !== undefined ? resolve(out) : reject(err)));
    });
    req.on('error', (err) => (stopAfter !== undefined ? undefined : reject(err)));
    req.end(JSON.stringify(body));
  });
}

test('POST /inference: the handler\'s ipc.submit reaches the engine loop and its answer comes back', async () => {
  const r = await hit(`${base}/inference`, { body: { data: 'hello big   world' } });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { result: 'HELLO BIG WORLD', tokens: 3 });
});

test('POST /inference: an engine reply with status "error" becomes the seed\'s HTTPException(500, error)', async () => {
  const r = await hit(`${base}/inference`, { body: { data: '   ' } });
  assert.equal(r.status, 500);
  const body = JSON.parse(r.body) as { code: string; message: string };
  assert.equal(body.code, 'INFERENCE_FAILED');
  assert.equal(body.message, 'nothing to infer: data is blank');
  assert.doesNotMatch(r.body, /\bat \S+\.ts/, 'no stack trace');
});

test('both routes validate the InferenceRequest body: 422 with field paths', async () => {
  for (const path of ['/inference', '/inference/stream']) {
    const missing = await hit(`${base}${path}`, { body: { prompt: 'x' } });
    assert.equal(missing.status, 422, missing.body);
    const locs = (JSON.parse(missing.body) as { detail: { loc: string[] }[] }).detail.map((d) => d.loc.join('.')).sort();
    assert.deepEqual(locs, ['body.data', 'body.prompt']);
    const empty = await hit(`${base}${path}`, { body: { data: '' } });
    assert.equal(empty.status, 422);
    assert.deepEqual((JSON.parse(empty.body) as { detail: { loc: string[]; type: string }[] }).detail.map((d) => [d.loc.join('.'), d.type]), [['body.data', 'minLength']]);
  }
});

test('POST /inference/stream: SSE tokens arrive in order, one by one, and the stream ends after the isFinal chunk', async () => {
  const words = ['one', 'two', 'three', 'four', 'five', 'six'];
  const r = await sse('/inference/stream', { data: words.join(' ') });
  assert.equal(r.status, 200, r.body);
  assert.match(r.contentType ?? '', /^text\/event-stream/);
  assert.deepEqual(r.events, words.map((w) => w.toUpperCase()));
  assert.equal(r.body, words.map((w) => `data: ${w.toUpperCase()}\n\n`).join(''), 'nothing but the token events');
  // Streamed, not buffered: the engine waits TOKEN_DELAY_MS between tokens, and the client
  // saw them spread out over that time.
  const spread = r.at[r.at.length - 1]! - r.at[0]!;
  assert.ok(spread >= (words.length - 1) * TOKEN_DELAY_MS * 0.6, `events arrived within ${spread.toFixed(0)} ms: ${r.at.map((t) => t.toFixed(0)).join(',')}`);
});

test('POST /inference/stream: an engine that refuses before the first chunk gives a plain HTTP error, not a 200 stream', async () => {
  const r = await hit(`${base}/inference/stream`, { body: { data: ' \t ' } });
  assert.equal(r.status, 422, r.body);
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.deepEqual(JSON.parse(r.body), { statusCode: 422, code: 'BLANK_INPUT', error: 'Unprocessable Entity', message: 'nothing to infer: data is blank' });
});

test('a client that hangs up mid-stream cancels the engine\'s work', async () => {
  const words = Array.from({ length: 60 }, (_, i) => `w${i}`);
  const r = await sse('/inference/stream', { data: words.join(' ') }, 3);
  assert.deepEqual(r.events, ['W0', 'W1', 'W2']);
  const gone = await app.line(/^stream (\S+): client gone after (\d+) of 60 tokens$/, 5000);
  assert.ok(Number(gone[2]) >= 3 && Number(gone[2]) < 60, gone[0]);
  // The server is still fine afterwards.
  const again = await sse('/inference/stream', { data: 'still here' });
  assert.deepEqual(again.events, ['STILL', 'HERE']);
});

test('concurrent requests are answered by id, each with its own result', async () => {
  const inputs = Array.from({ length: 20 }, (_, i) => `req ${i} ${'x'.repeat(i + 1)}`);
  const [plain, streams] = await Promise.all([
    Promise.all(inputs.map((data) => hit(`${base}/inference`, { body: { data } }))),
    Promise.all(inputs.slice(0, 5).map((data) => sse('/inference/stream', { data }))),
  ]);
  plain.forEach((r, i) => assert.deepEqual(JSON.parse(r.body), { result: inputs[i]!.toUpperCase(), tokens: inputs[i]!.split(' ').length }));
  streams.forEach((r, i) => assert.deepEqual(r.events, inputs[i]!.toUpperCase().split(' ')));
});

test('SIGTERM stops the example: exit code 0 and its web process gone', { timeout: 30_000 }, async () => {
  assert.ok(isAlive(webPid));
  assert.notEqual(webPid, enginePid);
  app.child.kill('SIGTERM');
  const { code, signal } = await app.exited;
  assert.equal(signal, null, `killed by ${signal}; stderr: ${app.stderr}`);
  assert.equal(code, 0, app.stderr);
  assert.match(app.stdout, /SIGTERM: stopping\nstopped\n$/);
  assert.ok(!isAlive(webPid), 'the web process is gone');
});
