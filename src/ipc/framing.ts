/** Length-prefixed frames: a 4-byte big-endian length, then the body. */
export const HEADER_BYTES = 4;

/** A length prefix over the decoder's limit: the stream cannot be followed any further. */
export class OversizeFrameError extends Error {}

/**
 * Reassembles frames from a byte stream. Partial chunks are kept as a list and joined
 * only when a whole frame is present, so large frames are not copied once per chunk.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; calls `onFrame` for each whole frame. Throws on a frame over the limit. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.buffered === 0 && this.need < 0) {
      // Nothing held back: the whole frames of this chunk are cut straight out of it, one view each.
      let at = 0;
      while (chunk.length - at >= HEADER_BYTES) {
        const need = this.lengthAt(chunk, at);
        if (chunk.length - at - HEADER_BYTES < need) break;
        at += HEADER_BYTES;
        onFrame(chunk.subarray(at, at + need));
        at += need;
      }
      if (at === chunk.length) return;
      if (at > 0) chunk = chunk.subarray(at);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < HEADER_BYTES) return;
        this.need = this.lengthAt(this.take(HEADER_BYTES), 0);
      }
      if (this.buffered < this.need) return;
      const frame = this.take(this.need);
      this.need = -1;
      onFrame(frame);
    }
  }

  /** The length prefix at `at`; throws for one over the limit, before its bytes are waited for. */
  private lengthAt(buf: Buffer, at: number): number {
    const n = buf.readUInt32BE(at);
    if (n > this.maxFrameBytes) throw new OversizeFrameError(`frame of ${n} bytes exceeds the limit of ${this.maxFrameBytes}`);
    return n;
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length >= n) {
      // Fast path: the frame lies within one chunk; slice, no copy.
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const len = Math.min(c.length, n - off);
      c.copy(out, off, 0, len);
      off += len;
      if (len === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(len);
    }
    this.buffered -= n;
    return out;
  }
}
