/**
 * The signed tcp_local transport under attack: forged and wrongly keyed signatures, a
 * byte-identical replay, a stale ts, an oversize frame, an unknown kind and random bytes
 * from raw TCP clients are each refused, counted and disconnected, while the legitimate
 * group process keeps serving. The secret is in no process's argv or environment.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ServerBuilder, type Server } from '../../src/index.js';
import { withEchoGroup } from './fixtures/server.js';
import { encodeFrame } from '../../src/ipc/frame.js';
import { jsonCodec } from '../../src/ipc/codecs/index.js';
import { generateSecret, Signer, Verifier, type RefusalReason } from '../../src/ipc/signing.js';
import { SignedFrameGuard } from '../../src/ipc/transports/sealed.js';
import type { Envelope } from '../../src/contract/envelope.js';
import { childPids, guardLeaks, waitFor, json } from '../helpers.js';

const MAX = 64 * 1024;
const secret = generateSecret();
let server: Server;
let base: string;
const dir = guardLeaks({ tmp: 'tcp-local-', cleanup: () => server?.stop(5) });

before(async () => {
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, secret.toString('hex'), { mode: 0o600 });
  const builder = new ServerBuilder('tcp-local')
    .withConfig({ port: 0, maxRestarts: 1, restartDelay: 0.1, responseTimeout: 20 })
    .withExecutionIpc({ secretFile, maxPayloadBytes: MAX });
  server = withEchoGroup(builder, 'solo');
  base = (await server.listen()).url;
});

function sealedFrame(e: Envelope, signer = new Signer(secret), kindName: string = e.kind, patch?: (frame: Buffer) => void): Buffer {
  const frame = encodeFrame(e, jsonCodec);
  patch?.(frame);
  const guard = new SignedFrameGuard({ signer, verifier: new Verifier({ secret, ttlSeconds: 30, nonceCacheSize: 10, maxPayloadBytes: MAX, kinds: [] }), maxPayloadBytes: MAX });
  return guard.seal(frame, kindName, e.id);
}

/** Sends bytes on a fresh connection and resolves when the server closes it. */
async function sendRaw(bytes: Buffer): Promise<void> {
  const { port, host } = server.groups!.address!;
  const sock = connect(port, host);
  await once(sock, 'connect');
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  // The server may reset the connection while we still write: a close either way.
  const closed = new Promise((resolve) => sock.once('close', resolve));
  sock.write(bytes);
  await closed;
}

function refused(): Record<RefusalReason, number> {
  return server.groups!.transportStats!.refused;
}

async function stillServes(): Promise<void> {
  const r = await fetch(`${base}/echo`, json({ n: 1 }));
  assert.equal(r.status, 200);
  assert.deepEqual(((await r.json()) as { echo: unknown }).echo, { n: 1 });
}

const ping: Envelope = { kind: 'control', id: 'p1', payload: { type: 'ping' } };

const attacks: [string, RefusalReason, () => Buffer][] = [
  ['a forged signature', 'bad_signature', () => {
    const f = sealedFrame(ping);
    const sigAt = 4 + 1 + f[4]! + 8;
    f[sigAt] = f[sigAt] === 0x41 ? 0x42 : 0x41;
    return f;
  }],
  ['a frame signed with the wrong secret', 'bad_signature', () => sealedFrame(ping, new Signer(generateSecret()))],
  ['a stale ts', 'stale', () => sealedFrame(ping, new Signer(secret, () => Date.now() - 120_000))],
  ['an oversize frame', 'oversize', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(10 * 1024 * 1024);
    return Buffer.concat([head, randomBytes(1024)]);
  }],
  ['an unknown kind', 'unknown_kind', () => sealedFrame(ping, new Signer(secret), '#42', (frame) => (frame[4] = 42))],
  ['a frame that is not a frame', 'malformed', () => {
    const f = Buffer.alloc(4 + 20, 0xff);
    f.writeUInt32BE(20, 0);
    f[4] = 0;
    return f;
  }],
];

for (const [what, reason, bytes] of attacks) {
  test(`${what}: refused as ${reason}, counted, disconnected; the group keeps serving`, async () => {
    const before = refused()[reason];
    await sendRaw(bytes());
    assert.equal(refused()[reason], before + 1);
    await stillServes();
  });
}

test('a byte-identical replay is refused, on another connection too', async () => {
  const frame = sealedFrame({ kind: 'control', id: 'r1', payload: { type: 'not-a-hello' } });
  const accepted = server.groups!.transportStats!.accepted;
  await sendRaw(frame);
  assert.equal(server.groups!.transportStats!.accepted, accepted + 1, 'the original was accepted (then dropped: it is no hello)');
  const before = refused().replay;
  await sendRaw(frame);
  assert.equal(refused().replay, before + 1);
  await stillServes();
});

test('random bytes from a raw TCP client: refused and disconnected, never a crash', async () => {
  const total = () => Object.values(refused()).reduce((a, b) => a + b, 0);
  for (let i = 0; i < 5; i++) {
    const before = total();
    await sendRaw(randomBytes(MAX + 4096));
    assert.equal(total(), before + 1);
  }
  await stillServes();
});

test('the secret is in no argv and no environment of any process', async () => {
  const forms = [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')];
  const pids = [process.pid, ...childPids()];
  assert.ok(pids.length >= 3, 'the web process and the group process are running');
  for (const pid of pids) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    for (const f of forms) {
      assert.ok(!cmdline.includes(f), `secret in argv of ${pid}`);
      assert.ok(!environ.includes(f), `secret in environment of ${pid}`);
    }
  }
});

test('past maxRestarts the group is failed: /_health names it, its routes answer 503 at once', async () => {
  for (let i = 0; i < 2; i++) {
    const pid = server.groupStatus[0]!.processes[0]!.pid!;
    await waitFor(() => server.groupStatus[0]!.processes[0]!.state === 'ready', 10_000, 'the process to be ready');
    process.kill(pid, 'SIGKILL');
    await waitFor(() => server.groupStatus[0]!.processes[0]!.pid !== pid || server.groupStatus[0]!.state === 'failed', 10_000, 'a restart or the failure');
  }
  await waitFor(() => server.groupStatus[0]!.state === 'failed', 10_000, 'the group to be failed');
  await waitFor(async () => {
    const h = (await (await fetch(`${base}/_health`)).json()) as { status: string; reason?: string };
    return h.status === 'degraded' && /process group "solo" is failed/.test(h.reason ?? '');
  }, 5000, '/_health to name the failed group');
  const r = await fetch(`${base}/echo`, json({}));
  assert.equal(r.status, 503);
  assert.equal(((await r.json()) as { code: string }).code, 'APPINFRA_ERR_GROUP_UNAVAILABLE');
});
