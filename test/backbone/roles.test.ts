/**
 * The Redis backbone across OS processes, as separate machines would run it: `appinfra
 * serve` with `--role web` and `--role engine`, the example app file with only
 * `transport: redis` changed, and a real redis-server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSecret } from '../../src/ipc/signing.js';
import { guardLeaks, isAlive, waitFor } from '../helpers.js';
import { CLI, start, stop, type Running } from '../cli/proc.js';
import { RedisServer } from './redis-server.js';

const redis = new RedisServer();
const running: Running[] = [];
const dir = guardLeaks({
  tmp: 'appinfra-backbone-',
  cleanup: async () => {
    await Promise.all(running.splice(0).map((p) => stop(p, 'SIGKILL')));
    await redis.dispose();
  },
});

const EXAMPLE = fileURLToPath(new URL('../../examples/config/', import.meta.url));
const PREFIX = 'appinfra:config-example';

/** The example file with `transport: redis`; the engine module made absolute only because the copy lives elsewhere. */
function appFile(): string {
  const text = readFileSync(join(EXAMPLE, 'app.yaml'), 'utf8');
  const changed = text.replace(/transport: pipe\b/, 'transport: redis').replace('module: ./engine.mjs', `module: ${join(EXAMPLE, 'engine.mjs')}`);
  assert.notEqual(changed, text);
  const path = join(dir, 'app.yaml');
  writeFileSync(path, changed);
  return path;
}

function role(file: string, which: 'web' | 'engine'): Running {
  const p = start(CLI, ['serve', file, '--role', which, '--port', '0', '--redis-url', redis.url, '--secret-file', join(dir, 'secret')]);
  running.push(p);
  return p;
}

async function webUrl(p: Running): Promise<string> {
  return (await p.waitForOutput(/listening on (http:\/\/[\d.:]+)/, 60_000))[1]!;
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(40_000) });

/** Runs `total` jobs, `concurrency` at a time. */
async function pool<T>(total: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}

interface Outcome {
  status: number;
  pid?: number;
  ok: boolean;
  code?: string;
}

/** One mixed request: mostly echo (checked to be this client's own answer), every fifth an SSE count. */
async function mixed(url: string, i: number): Promise<Outcome> {
  try {
    if (i % 5 === 4) {
      const n = 1 + (i % 7);
      const res = await post(`${url}/v1/count`, { n });
      const text = await res.text();
      if (res.status !== 200) return { status: res.status, ok: false, code: (JSON.parse(text) as { code?: string }).code };
      const got = [...text.matchAll(/data: \{"i":(\d+)\}/g)].map((m) => Number(m[1]));
      return { status: 200, ok: got.length === n && got.every((v, k) => v === k + 1) };
    }
    const message = `m${i}`;
    const res = await post(`${url}/v1/echo`, { message });
    const body = (await res.json()) as { message?: string; pid?: number; code?: string };
    return { status: res.status, pid: body.pid, ok: res.status === 200 && body.message === message, code: body.code };
  } catch (err) {
    return { status: 0, ok: false, code: String(err) };
  }
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.ok ? 'ok' : `${o.status}:${o.code ?? ''}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

test('2 web processes and 3 engine workers on separate processes: 10k mixed requests, each gets its own answer, work shared', { timeout: 240_000 }, async () => {
  await redis.start();
  writeFileSync(join(dir, 'secret'), generateSecret().toString('hex'), { mode: 0o600 });
  const file = appFile();
  const engines = [role(file, 'engine'), role(file, 'engine'), role(file, 'engine')];
  const webs = [role(file, 'web'), role(file, 'web')];
  const urls = await Promise.all(webs.map(webUrl));
  await Promise.all(engines.map((p) => p.waitForOutput(/engine worker on the Redis backbone \(pid (\d+)\)/, 60_000)));
  const enginePids = engines.map((p) => p.child.pid!);

  const outcomes = await pool(10_000, 64, (i) => mixed(urls[i % 2]!, i));
  assert.deepEqual(tally(outcomes), { ok: 10_000 });
  const perWorker = new Map<number, number>();
  for (const o of outcomes) if (o.pid) perWorker.set(o.pid, (perWorker.get(o.pid) ?? 0) + 1);
  assert.deepEqual([...perWorker.keys()].sort(), [...enginePids].sort(), 'every engine worker served, and only they');
  for (const [pid, n] of perWorker) assert.ok(n > 8000 / 3 / 4, `worker ${pid} served ${n} of 8000 echoes: the work is shared`);

  // An entry added by a client with Redis access but not the secret (redis-cli) is refused and counted.
  const cli = spawnSync('redis-cli', ['-p', String(redis.port), 'XADD', `${PREFIX}:requests:engine`, '*', 'm', 'forged'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  await waitFor(() => engines.some((p) => p.stderr.includes('refused a request stream entry')), 10_000, 'an engine worker to refuse the forged entry');

  // kill -9 of one engine worker under load: echo is not idempotent, so each request is answered once,
  // either by a live worker or with 502 (its worker died); none hangs, none is answered twice.
  const load = pool(3000, 64, (i) => mixed(urls[i % 2]!, i * 5));
  await sleep(300);
  engines[0]!.child.kill('SIGKILL');
  const under = await load;
  const t = tally(under);
  for (const k of Object.keys(t)) assert.ok(k === 'ok' || k === '502:APPINFRA_ERR_WORKER_LOST', `unexpected outcome ${k}: ${JSON.stringify(t)}`);
  assert.equal((t.ok ?? 0) + (t['502:APPINFRA_ERR_WORKER_LOST'] ?? 0), 3000);
  // Service goes on with the two left.
  assert.deepEqual(tally(await pool(200, 16, (i) => mixed(urls[i % 2]!, i * 5))), { ok: 200 });

  // Restart of redis-server under load: health goes 503 then 200, nothing restarts, nothing hangs past its deadline.
  const alive = [...engines.slice(1), ...webs].map((p) => p.child.pid!);
  const during = pool(2000, 32, (i) => mixed(urls[i % 2]!, i * 5));
  await sleep(200);
  await redis.stop();
  await waitFor(async () => (await fetch(`${urls[0]}/_health`)).status === 503, 10_000, 'health to say 503');
  await redis.start();
  await waitFor(async () => (await fetch(`${urls[0]}/_health`)).status === 200 && (await fetch(`${urls[1]}/_health`)).status === 200, 30_000, 'health to say 200 again');
  const t2 = tally(await during);
  for (const k of Object.keys(t2)) assert.ok(k === 'ok' || k.startsWith('503:'), `unexpected outcome ${k}: ${JSON.stringify(t2)}`);
  for (const pid of alive) assert.ok(isAlive(pid), `process ${pid} still runs: no restart was needed`);
  await waitFor(async () => (await pool(50, 8, (i) => mixed(urls[i % 2]!, i * 5))).every((o) => o.ok), 30_000, 'service to resume');

  // kill -9 of a web role: its web process follows its parent, and its reply channel goes with its connection.
  const raw = redis.client();
  try {
    const replyChannels = async (): Promise<number> => ((await raw.call('PUBSUB', 'CHANNELS', `${PREFIX}:reply:*`)) as string[]).length;
    assert.equal(await replyChannels(), 2);
    webs[0]!.child.kill('SIGKILL');
    await waitFor(async () => (await replyChannels()) === 1, 30_000, 'the dead web process\'s reply channel to be gone');
    assert.deepEqual(tally(await pool(100, 8, (i) => mixed(urls[1]!, i * 5))), { ok: 100 });

    // A clean stop of the others leaves nothing of them behind.
    await Promise.all([...engines.slice(1), webs[1]!].map((p) => stop(p, 'SIGTERM')));
    await waitFor(async () => (await raw.keys(`${PREFIX}:alive:*`)).length === 0, 10_000, 'presence keys to go');
    assert.deepEqual(await raw.keys(`${PREFIX}:reply:*`), []);
    assert.equal(await replyChannels(), 0);
  } finally {
    raw.disconnect();
  }
});
