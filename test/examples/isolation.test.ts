/**
 * "The web process never runs engine code": a builder-style subprocess app whose main
 * module and engine module append `<who> <pid>` to a marker file when imported. After
 * serving requests from every web process, and after a crashed web process was
 * restarted, the file holds the main process's pid for those two modules and nothing
 * else; the route module, which the web processes must import, marks each web pid
 * (so the web processes could have written the file, and did, for what they import).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, isAlive, resourcesNow, waitFor } from '../helpers.js';
import { hit, run, type Running } from './proc.js';

const MAIN = fileURLToPath(new URL('./fixtures/isolation/main.ts', import.meta.url));

let baseline: string[];
let dir: string;
let app: Running | undefined;
const webPids: number[] = [];

before(() => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-isolation-'));
});

after(async () => {
  await app?.kill(webPids);
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

/** JSON lines the fixture printed with `event` = name. */
function events(name: string): Record<string, any>[] {
  return app!.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"event"'))
    .map((l) => JSON.parse(l) as Record<string, any>)
    .filter((e) => e.event === name);
}

function marks(file: string): { who: string; pid: number }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [who, pid] = l.split(' ');
      return { who: who!, pid: Number(pid) };
    });
}

test('the engine module and the main module run in the main process only, never in a web process', { timeout: 60_000 }, async () => {
  const marker = join(dir, 'imported-by.txt');
  app = run(MAIN, { MARKER_FILE: marker, LOG_FILE: join(dir, 'web.log') });
  await app.line(/^\{"event":"ready"/);
  const ready = events('ready')[0]!;
  const mainPid = ready.main as number;
  const base = `http://127.0.0.1:${ready.port}`;
  webPids.push(...(ready.pids as number[]));
  assert.equal(mainPid, app.child.pid);
  assert.equal(webPids.length, 2);

  // A web process's command line names the framework's web entry, not the user's main module.
  for (const pid of webPids) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.some((a) => a.endsWith('web/entry.ts')), cmdline.join(' '));
    assert.ok(!cmdline.some((a) => a.includes('fixtures/isolation')), cmdline.join(' '));
  }

  // Serve from every web process: each new connection may land on either.
  const served = new Set<number>();
  await waitFor(async () => {
    const r = await hit(`${base}/whoami`);
    served.add((JSON.parse(r.body) as { pid: number }).pid);
    return webPids.every((p) => served.has(p));
  }, 20_000, 'both web processes to serve a request');
  // Engine code answers, in the main process: a handler from the engine module and the queue loop.
  const computed = JSON.parse((await hit(`${base}/compute`, { body: { n: 21 } })).body) as { doubled: number; pid: number };
  assert.deepEqual(computed, { n: 21, doubled: 42, pid: mainPid });
  for (let i = 0; i < 4; i++) {
    const r = JSON.parse((await hit(`${base}/engine-pid`)).body) as { web: number; engine: number };
    assert.equal(r.engine, mainPid);
    assert.ok(webPids.includes(r.web));
  }

  // A web process that crashes is replaced; the new one does not import the engine either.
  const victim = webPids[0]!;
  process.kill(victim, 'SIGKILL');
  await waitFor(() => events('started').some((e) => !webPids.includes(e.pid)), 20_000, 'a replacement web process');
  const replacement = events('started').find((e) => !webPids.includes(e.pid))!.pid as number;
  webPids.push(replacement);
  await waitFor(async () => {
    const r = await hit(`${base}/whoami`);
    return (JSON.parse(r.body) as { pid: number }).pid === replacement;
  }, 20_000, 'the replacement to serve a request');
  assert.equal((await hit(`${base}/compute`, { body: { n: 5 } })).status, 200);

  app.child.kill('SIGTERM');
  const { code, signal } = await app.exited;
  assert.equal(signal, null, app.stderr);
  assert.equal(code, 0, app.stderr);
  assert.equal(events('stopped').length, 1);
  for (const pid of webPids) assert.ok(!isAlive(pid), `web process ${pid} is gone`);

  const all = marks(marker);
  // The main module and the engine module: imported once, by the main process.
  assert.deepEqual(all.filter((m) => m.who === 'main').map((m) => m.pid), [mainPid]);
  assert.deepEqual(all.filter((m) => m.who === 'engine').map((m) => m.pid), [mainPid]);
  // The route module: imported by each web process (the restarted one too), never by the main process.
  assert.deepEqual(all.filter((m) => m.who === 'routes').map((m) => m.pid).sort(), [...webPids].sort());
  assert.equal(all.length, 2 + webPids.length, readFileSync(marker, 'utf8'));
  // Said the other way round: no web process pid next to engine or main code.
  for (const m of all) if (webPids.includes(m.pid)) assert.equal(m.who, 'routes', `web process ${m.pid} ran ${m.who}`);
});
