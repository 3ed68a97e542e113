import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { assertNoLeaks, childPids, freePort, isAlive, json, resourcesNow, waitFor } from '../helpers.js';
import { spawnScript, type Spawned } from '../proc.js';
import { blockFile, blockProject, readmeBlocks, tsBlocks, type Block } from './blocks.js';

const project = blockProject();
let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  rmSync(project.dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});


const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

function blockWith(marker: string): Block {
  const found = tsBlocks(readmeBlocks()).filter((b) => b.code.includes(marker));
  assert.equal(found.length, 1, `expected one README ts block containing ${marker}`);
  return found[0]!;
}

/**
 * Runs a README block as written, as `npx tsx file.ts` would, with one change: the port.
 * The blocks say `.withPort(8000)`, a port tests cannot count on, so the test rewrites that
 * one call to a free port and nothing else. Returns the pids of the block's child processes
 * while it served (all gone by the time it returns).
 */
async function runBlock(b: Block, check: (base: string) => Promise<void>): Promise<number[]> {
  const port = await freePort();
  const code = b.code.replace('.withPort(8000)', `.withPort(${port})`);
  assert.notEqual(code, b.code, `README.md line ${b.line}: the block no longer says .withPort(8000)`);
  const file = join(project.dir, blockFile(b));
  writeFileSync(file, code);
  const proc: Spawned = spawnScript(file, [], { TSX_TSCONFIG_PATH: project.tsconfig });
  const base = `http://127.0.0.1:${port}`;
  let children: number[] | undefined;
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`the block exited before serving\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`);
        return (await fetch(`${base}/_health`).catch(() => undefined))?.ok === true;
      },
      60000,
      'the block to serve /_health',
    );
    children = childPids(proc.child.pid!);
    await check(base);
  } finally {
    proc.child.kill('SIGTERM');
  }
  const exit = await proc.exited;
  const output = `stdout: ${proc.stdout}\nstderr: ${proc.stderr}`;
  assert.deepEqual(exit, { code: 0, signal: null }, `the block did not exit cleanly on SIGTERM\n${output}`);
  assert.doesNotMatch(proc.stderr, /error/i, output);
  for (const pid of children ?? []) assert.equal(isAlive(pid), false, `process ${pid} outlived the block`);
  assert.ok(await refused(port), 'the port still accepts connections after exit');
  return children ?? [];
}

test('the README direct-mode program serves /hello/{name} and stops cleanly on SIGTERM', { timeout: 120000 }, async () => {
  const children = await runBlock(blockWith("'/hello/{name}'"), async (base) => {
    const res = await fetch(`${base}/hello/World`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'Hello, World!' });
  });
  assert.deepEqual(children, [], 'direct mode runs in one process');
});

test('the README handler-style program serves its forward routes from a web process and stops cleanly', { timeout: 120000 }, async () => {
  const children = await runBlock(blockWith("'/v1/embed'"), async (base) => {
    const res = await fetch(`${base}/v1/embed`, json({ text: 'hi' }));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { vector: unknown };
    assert.ok(Array.isArray(body.vector) && body.vector.length > 0 && body.vector.every((x) => typeof x === 'number'), JSON.stringify(body));
    // The schema crossed to the web process: a body without `text` never reaches the engine.
    const bad = await fetch(`${base}/v1/embed`, json({}));
    const why = await bad.text();
    assert.ok(bad.status === 422 || bad.status === 400, `${bad.status} ${why}`);
    assert.match(why, /text/);
    const sse = await fetch(`${base}/v1/generate`, json({ prompt: 'the keeper wrote' }));
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok((await sse.text()).split('\n').filter((l) => l.startsWith('data:')).length >= 3, 'one event per token');
  });
  assert.equal(children.length, 1, 'subprocess mode serves from one web process');
});
