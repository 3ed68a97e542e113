/**
 * Seed example 2 (examples/02-subprocess) end to end: the example runs as a real process
 * (`node --import tsx`, PORT=0), real HTTP requests hit every route it declares, and
 * SIGTERM stops it with exit code 0 and no process left behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, isAlive, resourcesNow, waitFor } from '../helpers.js';
import { hit, run, type Running } from './proc.js';

const MAIN = fileURLToPath(new URL('../../examples/02-subprocess/main.ts', import.meta.url));

let baseline: string[];
let dir: string;
let logFile: string;
let app: Running;
let base: string;
let webPids: number[];
let enginePid: number;
/** Successful POST /process so far: what the engine's counter must say. */
let processed = 0;

function chained(text: string, rounds: number): string {
  let d = text;
  for (let i = 0; i < rounds; i++) d = createHash('sha256').update(d).digest('hex');
  return d;
}

before(async () => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-example2-'));
  logFile = join(dir, 'logs', 'api.log');
  app = run(MAIN, { PORT: '0', API_LOG_FILE: logFile });
  const started = await app.line(/^API server started \(pid=(\d+); web pids=([\d,]+); engine pid=(\d+);/);
  webPids = started[2]!.split(',').map(Number);
  enginePid = Number(started[3]);
  base = (await app.line(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/))[1]!;
});

after(async () => {
  // Whatever a failed test left: the example and its web processes (grandchildren of this one).
  await app?.kill(webPids ?? []);
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

test('the example starts 2 web processes (its WORKERS default), apart from the engine process', () => {
  assert.equal(app.child.pid, enginePid, 'the process we started is the engine');
  assert.equal(webPids.length, 2);
  for (const pid of webPids) {
    assert.notEqual(pid, enginePid);
    assert.ok(isAlive(pid), `web process ${pid} runs`);
  }
});

test('forward route POST /process: the engine loop computes the answer and replies by id', async () => {
  const r = await hit(`${base}/process`, { body: { text: 'hello', rounds: 3 } });
  assert.equal(r.status, 200, r.body);
  const body = JSON.parse(r.body) as { id: string; digest: string; rounds: number };
  assert.equal(body.digest, chained('hello', 3));
  assert.equal(body.rounds, 3);
  assert.equal(typeof body.id, 'string');
  processed++;
  // Default rounds, and distinct ids for distinct requests.
  const d = await hit(`${base}/process`, { body: { text: 'hello' } });
  assert.equal(d.status, 200, d.body);
  const dBody = JSON.parse(d.body) as { id: string; digest: string; rounds: number };
  assert.deepEqual({ digest: dBody.digest, rounds: dBody.rounds }, { digest: chained('hello', 1000), rounds: 1000 });
  assert.notEqual(dBody.id, body.id);
  processed++;
});

test('forward route: a bad body is a 422 with field paths, and never reaches the engine', async () => {
  const r = await hit(`${base}/process`, { body: { rounds: 0, colour: 'red' } });
  assert.equal(r.status, 422, r.body);
  const body = JSON.parse(r.body) as { code: string; detail: { loc: (string | number)[]; type: string }[] };
  assert.equal(body.code, 'VALIDATION_ERROR');
  const locs = body.detail.map((d) => d.loc.join('.')).sort();
  assert.deepEqual(locs, ['body.colour', 'body.rounds', 'body.text']);
  assert.equal(body.detail.find((d) => d.loc.join('.') === 'body.rounds')?.type, 'minimum');
  const wrongType = await hit(`${base}/process`, { body: { text: 'x', rounds: 'many' } });
  assert.equal(wrongType.status, 422);
  assert.deepEqual((JSON.parse(wrongType.body) as { detail: { loc: string[] }[] }).detail.map((d) => d.loc.join('.')), ['body.rounds']);
  // The engine's counter did not move.
  const stats = JSON.parse((await hit(`${base}/api/v1/stats`)).body) as { processed: number };
  assert.equal(stats.processed, processed);
});

test('module route GET /health is answered by a web process, not the engine', async () => {
  const seen = new Set<number>();
  for (let i = 0; i < 6; i++) {
    const r = await hit(`${base}/health`);
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body) as { status: string; web: { pid: number }; ipc: { connected: boolean; pending: number; maxPending: number } };
    assert.equal(body.status, 'ok');
    assert.deepEqual(body.ipc, { connected: true, pending: 0, maxPending: 200 });
    assert.ok(webPids.includes(body.web.pid), `pid ${body.web.pid} is one of the web processes ${webPids.join(',')}`);
    seen.add(body.web.pid);
  }
  assert.ok(!seen.has(enginePid));
});

test('router under /api/v1: GET /api/v1/stats goes through the queues to the engine loop', async () => {
  const r = await hit(`${base}/api/v1/stats`);
  assert.equal(r.status, 200, r.body);
  const body = JSON.parse(r.body) as { processed: number; engine: { pid: number }; web: { pid: number } };
  assert.equal(body.processed, processed);
  assert.equal(body.engine.pid, enginePid, 'the answer was computed in the engine process');
  assert.ok(webPids.includes(body.web.pid));
  // The prefix is part of the path: the router's route does not exist without it.
  assert.equal((await hit(`${base}/stats`)).status, 404);
  // And the OpenAPI document lists every route of the example.
  const paths = Object.keys((JSON.parse((await hit(`${base}/openapi.json`)).body) as { paths: object }).paths);
  for (const p of ['/process', '/health', '/api/v1/stats']) assert.ok(paths.includes(p), `${p} in ${paths.join(',')}`);
});

test('CORS: the allowed origin gets preflight and response headers, another origin does not', async () => {
  const origin = 'http://localhost:3000';
  const pre = await hit(`${base}/process`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers['access-control-allow-origin'], origin);
  assert.match(String(pre.headers['access-control-allow-methods']), /\bPOST\b/);
  assert.match(String(pre.headers['access-control-allow-headers']), /content-type/i);
  assert.equal(pre.headers['access-control-allow-credentials'], undefined, 'credentials are off by default');

  const other = await hit(`${base}/process`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(other.headers['access-control-allow-origin'], undefined);

  const real = await hit(`${base}/process`, { headers: { origin }, body: { text: 'cors', rounds: 1 } });
  assert.equal(real.status, 200);
  assert.equal(real.headers['access-control-allow-origin'], origin);
  processed++;
});

test('log isolation: the web processes\' access log is in the log file, not on the engine\'s output', async () => {
  await waitFor(() => {
    try {
      return readFileSync(logFile, 'utf8').includes('"url":"/api/v1/stats"');
    } catch {
      return false;
    }
  }, 5000, 'access log lines in the log file');
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"logger":"access"')).map((l) => JSON.parse(l) as { pid: number; url: string; statusCode: number });
  assert.ok(lines.some((l) => l.url === '/process' && l.statusCode === 200));
  assert.ok(lines.some((l) => l.url === '/process' && l.statusCode === 422));
  for (const l of lines) assert.ok(webPids.includes(l.pid), `access line from ${l.pid}`);
  assert.doesNotMatch(app.stdout + app.stderr, /"logger":"access"|\/api\/v1\/stats/);
});

test('SIGTERM stops the example: exit code 0, its web processes gone, nothing printed on stderr', { timeout: 30_000 }, async () => {
  app.child.kill('SIGTERM');
  const { code, signal } = await app.exited;
  assert.equal(signal, null, `killed by ${signal}; stderr: ${app.stderr}`);
  assert.equal(code, 0, app.stderr);
  assert.match(app.stdout, /SIGTERM: stopping\nstopped\n$/);
  assert.equal(app.stderr, '');
  for (const pid of webPids) assert.ok(!isAlive(pid), `web process ${pid} is gone`);
});
