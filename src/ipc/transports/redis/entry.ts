import type { Envelope } from '../../../contract/envelope.js';
import type { Codec } from '../../codecs/index.js';
import { decodeFrame, encodeFrame } from '../../frame.js';
import { HEADER_BYTES } from '../../framing.js';
import { Signer, Verifier, type RefusalReason } from '../../signing.js';

/**
 * One envelope as a Redis stream entry (or a pub/sub message): the frame bytes of
 * ../../frame.ts signed as tcp_local signs them (../../signing.ts: HMAC over kind, id, ts,
 * nonce and the frame). Stream entries carry the fields `f`, `t`, `n`, `s`; a pub/sub
 * message is the same four packed into one buffer (see `packMessage`).
 */
export interface SignedEntry {
  f: Buffer;
  t: number;
  n: string;
  s: string;
}

export class EntryCodec {
  private readonly signer: Signer;
  readonly verifier: Verifier;

  constructor(
    private readonly codec: Codec,
    secret: Buffer,
    kinds: readonly string[],
    ttlMs: number,
    maxPayloadBytes = 64 * 1024 * 1024,
  ) {
    this.signer = new Signer(secret);
    this.verifier = new Verifier({ secret, ttlSeconds: ttlMs / 1000, nonceCacheSize: 100_000, maxPayloadBytes, kinds });
  }

  /** Throws `EncodeError` (nothing sent) for a payload the codec refuses, as every link does. */
  seal(e: Envelope): SignedEntry {
    const f = encodeFrame(e, this.codec).subarray(HEADER_BYTES);
    const { ts, nonce, sig } = this.signer.sign(e.kind, e.id, f);
    return { f, t: ts, n: nonce, s: sig };
  }

  /** The envelope, or why it was refused. Never throws: the bytes may come from anyone with Redis access. */
  open(fields: readonly Buffer[]): Envelope | RefusalReason {
    // Field names are one letter: compared by byte, no string made per entry.
    let f: Buffer | undefined, t: Buffer | undefined, n: Buffer | undefined, s: Buffer | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.length !== 1) continue;
      const v = fields[i + 1];
      if (name[0] === 0x66) f ??= v;
      else if (name[0] === 0x74) t ??= v;
      else if (name[0] === 0x6e) n ??= v;
      else if (name[0] === 0x73) s ??= v;
    }
    if (!f) return this.refuse('malformed');
    let e: Envelope;
    try {
      e = decodeFrame(f, this.codec);
    } catch {
      return this.refuse('malformed');
    }
    const verdict = this.verifier.verify({ kind: e.kind, id: e.id, ts: t ? Number(t.toString()) : undefined, nonce: n?.toString(), sig: s?.toString() }, f);
    return verdict.ok ? e : verdict.reason;
  }

  private refuse(reason: RefusalReason): RefusalReason {
    this.verifier.refused[reason]++;
    return reason;
  }
}

/** The signed kind of a bundle: its frames' own kinds are checked one by one when it is opened. */
const BUNDLE = 'bundle';

/**
 * Many envelopes for one receiver as one pub/sub message, signed once: the replies, stream
 * chunks and ends a worker has for one web process in one turn, or a web process's
 * cancels and credit of one turn. `f` is their frames one after another, each with its
 * length prefix; the signature covers kind "bundle", an empty id and those bytes.
 */
export class BundleCodec {
  private readonly signer: Signer;
  readonly verifier: Verifier;
  private readonly kinds: ReadonlySet<string>;

  constructor(
    private readonly codec: Codec,
    secret: Buffer,
    kinds: readonly string[],
    ttlMs: number,
    private readonly maxPayloadBytes = 64 * 1024 * 1024,
  ) {
    this.signer = new Signer(secret);
    this.verifier = new Verifier({ secret, ttlSeconds: ttlMs / 1000, nonceCacheSize: 100_000, maxPayloadBytes, kinds: [BUNDLE] });
    this.kinds = new Set(kinds);
  }

  /** One envelope's frame, length prefix included. Throws `EncodeError` for a payload the codec refuses. */
  frame(e: Envelope): Buffer {
    return encodeFrame(e, this.codec);
  }

  /** A packed, signed message of frames (see `packMessage`). */
  seal(frames: readonly Buffer[]): Buffer {
    const f = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    const { ts, nonce, sig } = this.signer.sign(BUNDLE, '', f);
    return packMessage({ f, t: ts, n: nonce, s: sig });
  }

  /** The envelopes of a message, or why it was refused. Never throws. */
  open(message: Buffer): Envelope[] | RefusalReason {
    const x = unpackMessage(message);
    if (!x) return this.refuse('malformed');
    const f = x.f;
    const verdict = this.verifier.verify({ kind: BUNDLE, id: '', ts: x.t, nonce: x.n, sig: x.s }, f);
    if (!verdict.ok) return verdict.reason;
    const out: Envelope[] = [];
    try {
      for (let at = 0; at < f.length; ) {
        const end = at + HEADER_BYTES + f.readUInt32BE(at);
        if (end > f.length) return this.refuse('malformed');
        const e = decodeFrame(f.subarray(at + HEADER_BYTES, end), this.codec);
        // Signed by a peer, yet not a kind this side takes: the whole bundle is refused.
        if (!this.kinds.has(e.kind)) return this.refuse('unknown_kind');
        out.push(e);
        at = end;
      }
    } catch {
      return this.refuse('malformed');
    }
    return out;
  }

  /** Frames up to this many bytes go in one message; more start another. */
  get maxBundleBytes(): number {
    return Math.min(this.maxPayloadBytes, 1024 * 1024);
  }

  private refuse(reason: RefusalReason): RefusalReason {
    this.verifier.note(reason);
    return reason;
  }
}

/** One pub/sub message: u32 length-prefixed f, then `t n s` as text. */
export function packMessage(x: SignedEntry): Buffer {
  const tail = Buffer.from(`${x.t} ${x.n} ${x.s}`);
  const out = Buffer.allocUnsafe(4 + x.f.length + tail.length);
  out.writeUInt32BE(x.f.length, 0);
  x.f.copy(out, 4);
  tail.copy(out, 4 + x.f.length);
  return out;
}

/** The parts of a packed message; undefined for bytes that are not one. */
export function unpackMessage(b: Buffer): SignedEntry | undefined {
  if (b.length < 4) return undefined;
  const len = b.readUInt32BE(0);
  if (4 + len > b.length) return undefined;
  const [t, n, s] = b.toString('utf8', 4 + len).split(' ');
  if (t === undefined || n === undefined || s === undefined) return undefined;
  return { f: b.subarray(4, 4 + len), t: Number(t), n, s };
}
