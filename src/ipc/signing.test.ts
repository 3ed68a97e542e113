import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { generateSecret, loadSecret, loadSecretSync, REFUSAL_REASONS, SignatureMac, signatureOf, Signer, Verifier, type VerifierOptions } from './signing.js';

const KINDS = ['request', 'response', 'error', 'chunk', 'end', 'cancel', 'credit', 'control'];
const secret = Buffer.alloc(32, 7);

function verifier(over: Partial<VerifierOptions> = {}): Verifier {
  return new Verifier({ secret, ttlSeconds: 30, nonceCacheSize: 100, maxPayloadBytes: 1024, kinds: KINDS, ...over });
}

/** The canonical head (signing.ts's layout), built here independently of it. */
function canonical(kind: string, id: string, ts: number, nonce: string, payloadLength: number): Buffer {
  const head: Buffer[] = [Buffer.from([1])];
  for (const f of [kind, id, nonce]) {
    const b = Buffer.from(f);
    head.push(Buffer.from([b.length >> 8, b.length & 0xff]), b);
  }
  const tail = Buffer.alloc(12);
  tail.writeDoubleBE(ts, 0);
  tail.writeUInt32BE(payloadLength, 8);
  return Buffer.concat([...head, tail]);
}

function signed(kind: string, id: string, payload: Buffer, signer = new Signer(secret)) {
  return { kind, id, ...signer.sign(kind, id, payload) };
}

test('a signed envelope verifies once; the same bytes again are a replay', () => {
  const v = verifier();
  const p = Buffer.from('{"x":1}');
  const e = signed('request', 'r1', p);
  assert.equal(e.sig.length, 43);
  assert.deepEqual(v.verify(e, p), { ok: true });
  const again = v.verify(e, p);
  assert.equal(again.ok, false);
  assert.equal(!again.ok && again.reason, 'replay');
  assert.equal(v.accepted, 1);
  assert.equal(v.refused.replay, 1);
});

test('each refusal is named and counted', () => {
  let clock = 1_000_000;
  const v = verifier({ now: () => clock });
  const signer = new Signer(secret, () => clock);
  const p = Buffer.from('payload');
  const reason = (e: Parameters<Verifier['verify']>[0], payload = p) => {
    const r = v.verify(e, payload);
    return r.ok ? 'ok' : r.reason;
  };
  const good = () => signed('request', 'a', p, signer);
  assert.equal(reason({ kind: 'request', id: 'a' }), 'missing_signature');
  assert.equal(reason({ ...good(), sig: 'short' }), 'malformed');
  assert.equal(reason({ ...good(), ts: 'now' }), 'malformed');
  assert.equal(reason({ ...good(), nonce: 42 }), 'malformed');
  assert.equal(reason({ ...good(), id: 7 }), 'malformed');
  assert.equal(reason(signed('bogus', 'a', p, signer)), 'unknown_kind');
  const big = Buffer.alloc(1025);
  assert.equal(reason(signed('request', 'a', big, signer), big), 'oversize');
  const old = good();
  clock += 31_000;
  assert.equal(reason(old), 'stale');
  const future = good();
  clock -= 62_000;
  assert.equal(reason(future), 'stale');
  clock += 31_000;
  const wrongKey = { kind: 'request', id: 'a', ...new Signer(generateSecret(), () => clock).sign('request', 'a', p) };
  assert.equal(reason(wrongKey), 'bad_signature');
  assert.equal(reason({ ...good(), id: 'b' }), 'bad_signature');
  const ok = good();
  assert.equal(reason(ok), 'ok');
  assert.equal(reason(ok), 'replay');
  assert.deepEqual(v.refused, { bad_signature: 2, missing_signature: 1, stale: 2, replay: 1, unknown_kind: 1, oversize: 1, malformed: 4 });
  assert.deepEqual(Object.keys(v.refused).sort(), [...REFUSAL_REASONS].sort());
});

/** Signed with a nonce of another form than `Signer`'s (a peer written elsewhere): it goes to the cache. */
function signedWithNonce(kind: string, id: string, payload: Buffer, nonce: string, ts: number) {
  return { kind, id, ts, nonce, sig: signatureOf(secret, kind, id, ts, nonce, payload).toString('base64url') };
}

test('the replay cache for nonces of another form is bounded: oldest evicted first, expired nonces dropped', () => {
  let clock = 5_000_000;
  const v = verifier({ nonceCacheSize: 10, now: () => clock });
  const p = Buffer.alloc(0);
  const first = signedWithNonce('credit', 'x', p, 'first', clock);
  assert.equal(v.verify(first, p).ok, true);
  for (let i = 0; i < 50; i++) assert.equal(v.verify(signedWithNonce('credit', `x${i}`, p, `n-${i}`, clock), p).ok, true);
  assert.equal(v.cachedNonces, 10);
  clock += 31_000;
  assert.equal(v.verify(signedWithNonce('credit', 'late', p, 'late', clock), p).ok, true);
  assert.equal(v.cachedNonces, 1, 'nonces past the TTL are dropped');
});

test("a Signer's nonces are checked by counter: a replay is refused after any number of messages within the TTL, with nothing cached per message", () => {
  const clock = 5_000_000;
  // The cache holds 100 nonces; 100,000 messages later the first one is still known.
  const v = verifier({ now: () => clock });
  const signer = new Signer(secret, () => clock);
  const p = Buffer.from('x');
  const ancient = signed('request', 'ancient', p, signer);
  for (let i = 0; i < 200_000; i++) signer.sign('request', 'i', p);
  const first = signed('request', 'first', p, signer);
  assert.equal(v.verify(first, p).ok, true);
  const late = signed('request', 'late', p, signer);
  for (let i = 0; i < 100_000; i++) signer.sign('request', 'i', p);
  const last = signed('request', 'last', p, signer);
  assert.equal(v.verify(last, p).ok, true);
  // Out of order within its signer's window: accepted once (a reclaimed entry arrives late).
  assert.equal(v.verify(late, p).ok, true);
  // More than 2^18 messages behind the newest: refused, as it could not be told from a replay.
  for (const e of [first, late, last, ancient]) {
    const again = v.verify(e, p);
    assert.equal(!again.ok && again.reason, 'replay');
  }
  assert.equal(v.cachedNonces, 0);
});

test('canonical bytes are length-prefixed: moving a byte between fields changes the signature', () => {
  const p = Buffer.from('z');
  assert.notDeepEqual(signatureOf(secret, 'request', 'ab', 1, 'c', p), signatureOf(secret, 'request', 'a', 1, 'bc', p));
  assert.notDeepEqual(signatureOf(secret, 'request', 'a', 1, 'n', Buffer.from('zz')), signatureOf(secret, 'request', 'az', 1, 'n', p));
});

test('property: the signature is HMAC-SHA256 (createHmac) of the canonical bytes, for any key length and any text', () => {
  // ASCII fields take the MAC's own writer; any other text (any UTF-16, lone surrogates too) the general one.
  const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }));
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), text, text, fc.double({ noNaN: true }), text, fc.uint8Array({ maxLength: 200 }), (key, kind, id, ts, nonce, payload) => {
      const k = Buffer.from(key);
      const expected = createHmac('sha256', k).update(canonical(kind, id, ts, nonce, payload.length)).update(payload).digest();
      assert.deepEqual(signatureOf(k, kind, id, ts, nonce, payload), expected);
    }),
    { numRuns: 300 },
  );
});

test('property: one SignatureMac over messages of mixed sizes (its buffer grown, and past it streamed) gives createHmac\'s bytes each time', () => {
  const mac = new SignatureMac(secret);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string({ maxLength: 30 }), fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 300, max: 40_000 }))), { minLength: 1, maxLength: 8 }), (messages) => {
      for (const [id, size] of messages) {
        const payload = Buffer.alloc(size, id.length + size);
        const expected = createHmac('sha256', secret).update(canonical('request', id, 7, 'n.1', payload.length)).update(payload).digest();
        assert.equal(mac.digest('request', id, 7, 'n.1', payload, 'base64url'), expected.toString('base64url'));
        assert.equal(mac.digest('request', id, 7, 'n.1', payload, 'binary'), expected.toString('binary'));
      }
    }),
    { numRuns: 100 },
  );
});

test('secrets: generated at 32 bytes; loaded from hex, base64 or raw files; short files refused without echoing the content', async () => {
  assert.equal(generateSecret().length, 32);
  assert.notDeepEqual(generateSecret(), generateSecret());
  const dir = mkdtempSync(join(tmpdir(), 'sig-'));
  try {
    const key = generateSecret();
    writeFileSync(join(dir, 'hex'), key.toString('hex') + '\n');
    writeFileSync(join(dir, 'b64'), key.toString('base64'));
    writeFileSync(join(dir, 'raw'), Buffer.concat([Buffer.from([0xff, 0x00]), key]));
    writeFileSync(join(dir, 'short'), 'abcd');
    assert.deepEqual(await loadSecret(join(dir, 'hex')), key);
    assert.deepEqual(loadSecretSync(join(dir, 'b64')), key);
    assert.equal(loadSecretSync(join(dir, 'raw')).length, 34);
    assert.throws(() => loadSecretSync(join(dir, 'short')), (e: Error) => /at least 32/.test(e.message) && !e.message.includes('abcd'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: never throws, never accepts a modified kind, id, ts, nonce or payload, replays refused, memory bounded', () => {
  let clock = 10_000_000;
  const v = verifier({ nonceCacheSize: 64, maxPayloadBytes: 4096, now: () => clock });
  const signer = new Signer(secret, () => clock);
  const field = fc.constantFrom('kind', 'id', 'ts', 'nonce', 'payload');
  fc.assert(
    fc.property(
      fc.constantFrom(...KINDS),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 300 }),
      field,
      fc.nat(),
      fc.nat(7),
      fc.integer({ min: 0, max: 40_000 }),
      (kind, id, bytes, which, at, bit, step) => {
        clock += step % 50;
        const payload = Buffer.from(bytes);
        const e = signed(kind, id, payload, signer);
        const m: Record<string, unknown> = { ...e };
        let mp = payload;
        if (which === 'payload') {
          mp = Buffer.concat([payload, Buffer.from([at & 0xff])]);
          if (payload.length > 0) {
            mp = Buffer.from(payload);
            const i = at % mp.length;
            mp[i] = mp[i]! ^ (1 << bit);
          }
        } else if (which === 'ts') m.ts = e.ts + 1 + (at % 1000);
        else if (which === 'kind') m.kind = KINDS[(KINDS.indexOf(kind) + 1 + (at % 7)) % 8];
        else m[which] = String(m[which]) + String.fromCharCode(33 + (at % 90));
        assert.equal(v.verify(m as never, mp).ok, false, `modified ${which} accepted`);
        assert.equal(v.verify(e, payload).ok, true);
        const replay = v.verify(e, payload);
        assert.equal(!replay.ok && replay.reason, 'replay');
        assert.ok(v.cachedNonces <= 64);
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: arbitrary field values and bytes never throw', () => {
  const v = verifier({ nonceCacheSize: 16 });
  fc.assert(
    fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.oneof(fc.anything(), fc.string({ minLength: 43, maxLength: 43 })), fc.uint8Array({ maxLength: 2000 }), (kind, id, ts, nonce, sig, bytes) => {
      const r = v.verify({ kind, id, ts, nonce, sig }, bytes);
      assert.equal(r.ok, false);
      assert.ok(v.cachedNonces <= 16);
    }),
    { numRuns: 3000 },
  );
});
