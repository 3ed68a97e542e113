import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before } from 'node:test';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** PIDs of this process's live children (from /proc, so nothing is missed). */
export function childPids(pid = process.pid): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // The thread ended while we looked.
    }
  }
  return out.filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // tsx's esbuild service is the test runner's own helper, not something a test started.
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('esbuild')) return false;
      return !/\) Z /.test(stat);
    } catch {
      return false;
    }
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Waits until `check` is true, polling every 20 ms, failing after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * Fails if this process still has child processes, or timers, sockets and servers
 * beyond what the test runner itself holds. Call it in `after()` of every file that
 * starts servers or processes.
 */
export async function assertNoLeaks(baseline: string[] = []): Promise<void> {
  await waitFor(() => childPids().length === 0, 5000, 'child processes to exit').catch(() => undefined);
  assert.deepEqual(childPids(), [], 'a child process was left running');
  // Let close callbacks run before counting handles.
  await sleep(50);
  const now = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'FSReqCallback');
  const left = [...now];
  for (const b of baseline) {
    const i = left.indexOf(b);
    if (i >= 0) left.splice(i, 1);
  }
  const leaked = left.filter((r) => r === 'Timeout' || r === 'TCPServerWrap' || r === 'TCPSocketWrap' || r === 'Immediate' || r === 'ProcessWrap');
  assert.deepEqual(leaked, [], `resources left behind: ${leaked.join(', ')}`);
}

/**
 * The leak guard of a test file: notes what is open before its first test; after its
 * last, runs `cleanup` (stop what the file started), removes the scratch folder, then
 * fails if a child process, timer, socket or server is left. With `tmp` (a name prefix)
 * it creates that scratch folder and returns its path; otherwise ''.
 */
export function guardLeaks(options: { tmp?: string; cleanup?: () => unknown } = {}): string {
  const dir = options.tmp ? mkdtempSync(join(tmpdir(), options.tmp)) : '';
  let baseline: string[] = [];
  before(() => {
    baseline = resourcesNow();
  });
  after(async () => {
    try {
      await options.cleanup?.();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    await assertNoLeaks(baseline);
  });
  return dir;
}

/** A port that was free a moment ago, for a program that takes its port from the environment rather than 0. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

/** Active resources right now, to pass to assertNoLeaks as the baseline. */
export function resourcesNow(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'FSReqCallback');
}

export const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** A real socket pair over a Unix socket in `dir`: the same byte path the web process uses. The caller closes `server`. */
export async function socketPair(dir: string): Promise<{ a: Socket; b: Socket; server: NetServer }> {
  const path = join(dir, `s${Math.random().toString(36).slice(2)}.sock`);
  const server = createServer();
  await new Promise<void>((r) => server.listen(path, r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const a = connect(path);
  const b = await accepted;
  return { a, b, server };
}
