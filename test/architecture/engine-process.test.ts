/**
 * In subprocess mode the engine's (main) process serves no HTTP, so it must not load
 * Fastify and its plugins: they cost start-up time and memory in the process whose
 * event loop the engine needs. Direct mode serves HTTP in that process and loads it,
 * which shows the probe can tell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnScript } from '../proc.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';

const PROBE = fileURLToPath(new URL('./fixtures/fastify-probe.ts', import.meta.url));

async function probe(mode: 'subprocess' | 'direct'): Promise<{ mode: string; status: number; body: unknown; fastifyLoaded: boolean; docs: { swaggerAtStart: boolean; swaggerAfterDocs: boolean; paths: string[] } }> {
  const p = spawnScript(PROBE, [mode]);
  const exit = await p.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, `the probe failed\nstdout: ${p.stdout}\nstderr: ${p.stderr}`);
  const line = p.stdout.trim().split('\n').pop()!;
  return JSON.parse(line);
}

test('subprocess mode: the engine process answers a request without loading Fastify', async () => {
  const baseline = resourcesNow();
  const r = await probe('subprocess');
  assert.equal(r.mode, 'subprocess');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { hello: 'world' });
  assert.equal(r.fastifyLoaded, false);
  await assertNoLeaks(baseline);
});

test('direct mode: the same probe sees Fastify loaded in the process that serves HTTP', async () => {
  const baseline = resourcesNow();
  const r = await probe('direct');
  assert.equal(r.mode, 'direct');
  assert.equal(r.status, 200);
  assert.equal(r.fastifyLoaded, true);
  // The process that serves HTTP loads the OpenAPI plugins only when the docs are asked for.
  assert.deepEqual({ ...r.docs, paths: [...r.docs.paths].sort() }, { swaggerAtStart: false, swaggerAfterDocs: true, paths: ['/_health', '/hello'] });
  await assertNoLeaks(baseline);
});
