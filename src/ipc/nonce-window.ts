/**
 * The replay check for nonces of the form `Signer` makes: `<prefix>.<counter in base 36>`,
 * one prefix per signer, the counter counting up. Per prefix, a window of the last `bits`
 * counters as a bitmap, as IPsec's anti-replay window: a counter seen before, or older
 * than the window, is a replay. Nothing is kept per message, so the check holds however
 * many messages a peer sends within the TTL (a cache of each nonce forgets the oldest
 * once full), and the verifier's heap does not grow with the message rate.
 *
 * A counter may arrive out of order (a reclaimed Redis entry comes back seconds late);
 * only one more than `bits` behind the newest from its signer is refused.
 */
export class NonceWindows {
  private readonly peers = new Map<string, PeerWindow>();
  /** Calls so far: silent signers are forgotten every 1024. */
  private checks = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly bits = 1 << 18,
    private readonly maxPeers = 256,
  ) {}

  /** Peers with a window (tests). */
  get size(): number {
    return this.peers.size;
  }

  /**
   * true: first time; false: a replay (or older than the window); undefined: not of that
   * form (nor canonical), or no room for another peer: the caller checks it another way.
   */
  accept(nonce: string, now: number): boolean | undefined {
    const dot = nonce.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const text = nonce.slice(dot + 1);
    if (text.length === 0 || text.length > 10) return undefined;
    const counter = parseInt(text, 36);
    // Canonical text only: "0a" and "a" must not be two nonces for one counter.
    if (!Number.isSafeInteger(counter) || counter < 0 || counter.toString(36) !== text) return undefined;
    if ((++this.checks & 1023) === 0) this.forget(now);
    const prefix = nonce.slice(0, dot);
    let w = this.peers.get(prefix);
    if (!w) {
      if (this.peers.size >= this.maxPeers) return undefined;
      this.peers.set(prefix, (w = new PeerWindow(this.bits)));
    }
    w.seenAt = now;
    return w.accept(counter);
  }

  /** A signer silent for a TTL is gone: anything it signed is stale by now. */
  private forget(now: number): void {
    for (const [prefix, w] of this.peers) if (now - w.seenAt > this.ttlMs) this.peers.delete(prefix);
  }
}

class PeerWindow {
  seenAt = 0;
  private high = -1;
  private readonly words: Uint32Array;

  constructor(private readonly bits: number) {
    this.words = new Uint32Array(bits >>> 5);
  }

  accept(c: number): boolean {
    if (c > this.high) {
      if (c - this.high >= this.bits) this.words.fill(0);
      else for (let k = this.high + 1; k < c; k++) this.clear(k);
      this.high = c;
      this.set(c);
      return true;
    }
    if (c <= this.high - this.bits) return false;
    const slot = c % this.bits;
    if ((this.words[slot >>> 5]! & (1 << (slot & 31))) !== 0) return false;
    this.set(c);
    return true;
  }

  private set(c: number): void {
    const slot = c % this.bits;
    this.words[slot >>> 5]! |= 1 << (slot & 31);
  }

  private clear(c: number): void {
    const slot = c % this.bits;
    this.words[slot >>> 5]! &= ~(1 << (slot & 31));
  }
}
