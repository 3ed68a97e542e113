import { FRAME_KINDS, frameKindAndId } from '../frame.js';
import { HEADER_BYTES, OversizeFrameError } from '../framing.js';
import { Signer, Verifier, type RefusalReason } from '../signing.js';

/**
 * Signed frames for the tcp_local transport. A sealed frame, after its 4-byte length prefix:
 *
 *   u8 nonce length | nonce (ascii) | f64 ts (epoch ms) | sig (43 ascii bytes, base64url)
 *   | the inner frame: ../frame.ts's layout without its length prefix
 *
 * The signature (../signing.ts) covers the inner frame's kind and id and, as "the payload
 * bytes", the whole inner frame: every envelope field and the payload, exactly as they
 * travel. The inner frame is neither parsed nor re-encoded to seal it.
 */
const SIG_CHARS = 43;
/** Bytes a seal adds around a frame at most (a nonce is at most 128 characters). */
export const SEAL_OVERHEAD = 1 + 128 + 8 + SIG_CHARS;

/** A frame the receiver refused; the reason was counted already. */
export class FrameRefusedError extends Error {
  constructor(
    readonly reason: RefusalReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/** What a link does to every frame it sends and receives (see PipeLink's `guard`). */
export interface FrameGuard {
  /** A whole frame (length prefix included) in, a whole sealed frame out. */
  seal(frame: Buffer, kind: string, id: string): Buffer;
  /** A sealed frame without its prefix in, the inner frame out. Throws `FrameRefusedError`. */
  open(sealed: Buffer): Buffer;
  /** The byte stream broke (oversize prefix, a frame that does not decode): count it. */
  broken(err: unknown): FrameRefusedError;
  /** Largest sealed frame the decoder may accept. */
  readonly maxFrameBytes: number;
}

export interface SignedGuardOptions {
  signer: Signer;
  /** Shared by every connection of a listener, so a frame replayed on another connection is caught. */
  verifier: Verifier;
  maxPayloadBytes: number;
  /** Told of every refusal (log it, rate limited: never the frame's bytes). */
  onRefused?: (reason: RefusalReason, detail: string) => void;
}

export class SignedFrameGuard implements FrameGuard {
  readonly maxFrameBytes: number;

  constructor(private readonly options: SignedGuardOptions) {
    this.maxFrameBytes = options.maxPayloadBytes + SEAL_OVERHEAD;
  }

  seal(frame: Buffer, kind: string, id: string): Buffer {
    const inner = frame.subarray(HEADER_BYTES);
    const { ts, nonce, sig } = this.options.signer.sign(kind, id, inner);
    const head = 1 + nonce.length + 8 + SIG_CHARS;
    const out = Buffer.allocUnsafe(HEADER_BYTES + head + inner.length);
    out.writeUInt32BE(head + inner.length, 0);
    out[4] = nonce.length;
    let at = 5 + out.write(nonce, 5, 'latin1');
    at = out.writeDoubleBE(ts, at);
    at += out.write(sig, at, 'latin1');
    inner.copy(out, at);
    return out;
  }

  open(sealed: Buffer): Buffer {
    const nonceEnd = 1 + (sealed[0] ?? 0);
    const innerAt = nonceEnd + 8 + SIG_CHARS;
    if (sealed.length < innerAt + 4) return this.refuse('malformed', `sealed frame of ${sealed.length} bytes is shorter than its header`);
    const inner = sealed.subarray(innerAt);
    const head = frameKindAndId(inner);
    if (!head) return this.refuse('malformed', 'frame id runs past the end of the frame');
    const r = this.options.verifier.verify(
      {
        kind: FRAME_KINDS[head.kind] ?? `#${head.kind}`,
        id: head.id,
        nonce: sealed.toString('latin1', 1, nonceEnd),
        ts: sealed.readDoubleBE(nonceEnd),
        sig: sealed.toString('latin1', nonceEnd + 8, innerAt),
      },
      inner,
    );
    if (!r.ok) {
      this.options.onRefused?.(r.reason, r.detail);
      throw new FrameRefusedError(r.reason, r.detail);
    }
    return inner;
  }

  broken(err: unknown): FrameRefusedError {
    if (err instanceof FrameRefusedError) return err;
    const reason: RefusalReason = err instanceof OversizeFrameError ? 'oversize' : 'malformed';
    const detail = err instanceof Error ? err.message : String(err);
    this.options.verifier.note(reason);
    this.options.onRefused?.(reason, detail);
    return new FrameRefusedError(reason, detail);
  }

  private refuse(reason: RefusalReason, detail: string): never {
    this.options.verifier.note(reason);
    this.options.onRefused?.(reason, detail);
    throw new FrameRefusedError(reason, detail);
  }
}
