import type { Envelope } from '../../../contract/envelope.js';
import type { Codec } from '../../codecs/index.js';
import { decodeFrame, encodeFrame } from '../../frame.js';
import { HEADER_BYTES } from '../../framing.js';
import { Signer, Verifier, type RefusalReason } from '../../signing.js';

/**
 * One envelope as a Redis stream entry: the frame bytes of ../../frame.ts signed as
 * tcp_local signs them (../../signing.ts: HMAC over kind, id, ts, nonce and the frame),
 * packed with its signature into one buffer (see `packMessage`), the entry's one field
 * `m`. One field, not one per part: measured at 64 in flight, four fields cost the web
 * process an argument conversion each and the worker a buffer each per entry.
 */
export interface SignedEntry {
  f: Buffer;
  t: number;
  n: string;
  s: string;
}

/** The name of a request entry's one field. */
export const ENTRY_FIELD = 'm';
const ENTRY_FIELD_BYTE = 0x6d;

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

  /** The value of the entry's `m` field. Throws `EncodeError` (nothing sent) for a payload the codec refuses, as every link does. */
  seal(e: Envelope): Buffer {
    const f = encodeFrame(e, this.codec).subarray(HEADER_BYTES);
    const { ts, nonce, sig } = this.signer.sign(e.kind, e.id, f);
    return packMessage({ f, t: ts, n: nonce, s: sig });
  }

  /** The envelope, or why it was refused. Never throws: the bytes may come from anyone with Redis access. */
  open(fields: readonly Buffer[]): Envelope | RefusalReason {
    // The field name is one letter: compared by byte, no string made per entry.
    let m: Buffer | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.length === 1 && name[0] === ENTRY_FIELD_BYTE) {
        m = fields[i + 1];
        break;
      }
    }
    const x = m && unpackMessage(m);
    if (!x) return this.refuse('malformed');
    let e: Envelope;
    try {
      e = decodeFrame(x.f, this.codec);
    } catch {
      return this.refuse('malformed');
    }
    const verdict = this.verifier.verify({ kind: e.kind, id: e.id, ts: x.t, nonce: x.n, sig: x.s }, x.f);
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

/** A request entry's `m`, or a pub/sub message: u32 length-prefixed f, then `t n s` as ASCII text. */
export function packMessage(x: SignedEntry): Buffer {
  const tail = `${x.t} ${x.n} ${x.s}`;
  const out = Buffer.allocUnsafe(4 + x.f.length + tail.length);
  out.writeUInt32BE(x.f.length, 0);
  x.f.copy(out, 4);
  // A nonce or signature that is not ASCII fails the verifier's checks on the other side.
  out.write(tail, 4 + x.f.length, 'latin1');
  return out;
}

const SPACE = 0x20;

/** The parts of a packed message; undefined for bytes that are not one. */
export function unpackMessage(b: Buffer): SignedEntry | undefined {
  if (b.length < 4) return undefined;
  const len = b.readUInt32BE(0);
  const at = 4 + len;
  if (at > b.length) return undefined;
  const sp1 = b.indexOf(SPACE, at);
  const sp2 = sp1 < 0 ? -1 : b.indexOf(SPACE, sp1 + 1);
  if (sp2 < 0 || b.indexOf(SPACE, sp2 + 1) >= 0) return undefined;
  return { f: b.subarray(4, at), t: Number(b.toString('latin1', at, sp1)), n: b.toString('latin1', sp1 + 1, sp2), s: b.toString('latin1', sp2 + 1) };
}
