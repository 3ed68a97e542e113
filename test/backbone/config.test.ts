/** The backbone's configuration: the app file section, the command line, the builder. No Redis needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildError, Queue, ServerBuilder, StateError } from '../../src/index.js';
import { appFileFromObject, contractSummary } from '../../src/server/cli/app-file.js';
import { guardLeaks } from '../helpers.js';
import { CLI, run } from '../cli/proc.js';
import { SOURCE, problems } from '../cli/refusals.js';

const dir = guardLeaks({ tmp: 'appinfra-backbone-config-' });
const EXAMPLE = fileURLToPath(new URL('../../examples/config/app.yaml', import.meta.url));
const base = { engine: { module: './engine.mjs' }, endpoints: [{ path: '/v1/echo', methods: ['post'], handler: 'echo' }] };
const withRedis = (redis?: unknown): Record<string, unknown> => ({ ...base, runtime: { platform: { execution_ipc: { transport: 'redis', ...(redis ? { redis } : {}) } } } });


test('transport: redis is served (subprocess mode); the contract shows the backbone without its password', () => {
  const f = appFileFromObject(withRedis({ url: 'redis://:hunter2@db.internal:6380/2', idempotent: ['echo'] }), SOURCE);
  assert.equal(f.mode, 'subprocess');
  const c = contractSummary(f) as { execution_ipc: { transport: string; redis: { url: string; prefix: string; idempotent: string[]; max_length: number } } };
  assert.equal(c.execution_ipc.transport, 'redis');
  assert.equal(c.execution_ipc.redis.url, 'redis://:***@db.internal:6380/2');
  assert.ok(!JSON.stringify(c).includes('hunter2'));
  assert.equal(c.execution_ipc.redis.prefix, 'appinfra:virtual');
  assert.deepEqual(c.execution_ipc.redis.idempotent, ['echo']);
  assert.equal(c.execution_ipc.redis.max_length, 10000);
});

test('the redis section: every wrong value named by its key path', () => {
  assert.deepEqual(problems(withRedis({ url: 'http://x', max_length: 0, claim_idle_seconds: -1, idempotent: 'echo', colour: 'red' })).sort(), [
    'runtime.platform.execution_ipc.redis.claim_idle_seconds: got -1, expected a positive number of seconds',
    'runtime.platform.execution_ipc.redis.colour: unknown key; known keys are url, password_file, secret_file, prefix, max_length, max_in_flight, claim_idle_seconds, idempotent',
    'runtime.platform.execution_ipc.redis.idempotent: got "echo", expected a list of handler names',
    'runtime.platform.execution_ipc.redis.max_length: got 0, expected a positive integer',
    'runtime.platform.execution_ipc.redis.url: got "http://x", expected a redis:// or rediss:// URL',
  ]);
});

test('builder: withRole needs withRedis, withRedis needs subprocess mode and a real URL and secret', () => {
  assert.throws(() => new ServerBuilder('a').subprocess.withRole('engine'), BuildError);
  assert.throws(() => new ServerBuilder('a').subprocess.withRedis('http://x'), /redis:\/\/ or rediss:\/\//);
  assert.throws(() => new ServerBuilder('a').subprocess.withRedis({ url: 'redis://x', secret: Buffer.alloc(4) }), /at least 32 bytes/);
  assert.throws(() => new ServerBuilder('a').subprocess.withRedis('redis://x').withRole('cook' as 'web'), /one of all, web, engine/);
  assert.throws(() => new ServerBuilder('a').subprocess.withRedis('redis://x').done().build(), /withIpc/);
  const server = new ServerBuilder('a').subprocess.withIpc(new Queue(), new Queue()).withRedis('redis://127.0.0.1:1').withRole('web').done().build();
  assert.equal(server.isSubprocessMode, true);
});

test('a split role without the shared secret is refused before anything starts', async () => {
  const server = new ServerBuilder('a').subprocess.withIpc(new Queue(), new Queue()).withRedis('redis://127.0.0.1:1').withRole('engine').done().build();
  await assert.rejects(server.listen(), (err: unknown) => err instanceof StateError && /secret/.test(err.message) && /secret_file/.test(err.message));
});

test('appinfra serve: backbone flags need transport: redis; a password in --redis-url is refused (argv is public)', async () => {
  const pipe = await run(CLI, ['serve', EXAMPLE, '--role', 'engine']);
  assert.equal(pipe.code, 1, pipe.stderr);
  assert.match(pipe.stderr, /--role: the Redis backbone options need runtime\.platform\.execution_ipc\.transport: redis \(the file says pipe\)/);
  const file = join(dir, 'app.yaml');
  writeFileSync(file, `engine: { module: ${JSON.stringify(fileURLToPath(new URL('../../examples/config/engine.mjs', import.meta.url)))} }\nendpoints: [{ path: /e, methods: [POST], handler: echo }]\nruntime: { platform: { execution_ipc: { transport: redis } } }\n`);
  const pw = await run(CLI, ['serve', file, '--redis-url', 'redis://:s3cret@127.0.0.1:1']);
  assert.equal(pw.code, 1, pw.stderr);
  assert.match(pw.stderr, /--redis-url: the URL holds a password.*--redis-password-file/);
  assert.ok(!pw.stderr.includes('s3cret'));
  const split = await run(CLI, ['serve', file, '--role', 'web', '--redis-url', 'redis://127.0.0.1:1']);
  assert.notEqual(split.code, 0);
  assert.match(split.stderr, /the web role needs the backbone secret/);
});
