/**
 * A tiny language model for the demo: real BPE tokens (gpt-tokenizer's o200k_base, the
 * vocabulary ships inside the npm package, no network), trigram/bigram statistics
 * learned at start-up from corpus.txt, and a stack of dense layers with fixed
 * pseudo-random weights. The layers do not make the text better; they make every token
 * cost what a small model's forward pass costs (a few million multiply-adds), so the
 * engine is CPU-bound the way a real inference engine is.
 */
import { readFileSync } from 'node:fs';
import { decode, encode } from 'gpt-tokenizer';

export interface ModelOptions {
  /** Width of the hidden state (default 384). */
  dim?: number;
  /** Dense layers per token (default 40): the knob for CPU cost per token. */
  layers?: number;
  /** Seed of the fixed weights (default 7). */
  seed?: number;
}

export interface GenerateOptions {
  maxTokens: number;
  /** 0 = always the most likely token; higher = more random (default 1). */
  temperature?: number;
  /** Makes sampling reproducible. */
  seed?: number;
  /** Keep going past the natural stop (vLLM's `ignore_eos`): exactly maxTokens tokens. */
  ignoreStop?: boolean;
}

export interface Step {
  text: string;
  /** Set on the last step. */
  finishReason?: 'stop' | 'length';
}

/** mulberry32: small, fast, seedable; sampling must not depend on Math.random to be reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class TinyLM {
  readonly name = 'lighthouse-trigram-o200k';
  /** Token ids of the vocabulary (those seen in the corpus), and their index. */
  private readonly vocab: number[];
  private readonly index = new Map<number, number>();
  private readonly unigram: Float64Array;
  private readonly bigram = new Map<number, Map<number, number>>();
  private readonly trigram = new Map<number, Map<number, number>>();
  private readonly emb: Float32Array;
  private readonly weights: Float32Array;
  private readonly dim: number;
  private readonly layers: number;

  constructor(corpus: string, options: ModelOptions = {}) {
    this.dim = options.dim ?? 384;
    this.layers = options.layers ?? 40;
    const ids = encode(corpus);
    this.vocab = [...new Set(ids)];
    this.vocab.forEach((id, i) => this.index.set(id, i));
    const V = this.vocab.length;
    this.unigram = new Float64Array(V);
    const seq = ids.map((id) => this.index.get(id)!);
    for (let i = 0; i < seq.length; i++) {
      const c = seq[i]!;
      this.unigram[c]! += 1;
      if (i >= 1) bump(this.bigram, seq[i - 1]!, c);
      if (i >= 2) bump(this.trigram, seq[i - 2]! * V + seq[i - 1]!, c);
    }
    const r = rng(options.seed ?? 7);
    const D = this.dim;
    this.emb = Float32Array.from({ length: V * D }, () => r() * 2 - 1);
    // Scaled so tanh stays in its useful range layer after layer.
    const scale = 1.5 / Math.sqrt(D);
    this.weights = Float32Array.from({ length: this.layers * D * D }, () => (r() * 2 - 1) * scale);
  }

  static fromFile(path: string | URL, options?: ModelOptions): TinyLM {
    return new TinyLM(readFileSync(path, 'utf8'), options);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Multiply-adds per generated token, for the record. */
  get flopsPerToken(): number {
    return this.layers * this.dim * this.dim + this.vocab.length * this.dim;
  }

  countTokens(text: string): number {
    return encode(text).length;
  }

  /** A sequence ready to generate: its context and sampling state, advanced by `stepBatch`. */
  startSequence(prompt: string, options: GenerateOptions): Sequence {
    return {
      // Prompt tokens outside the corpus vocabulary carry no statistics here; they are skipped.
      context: encode(prompt)
        .map((id) => this.index.get(id))
        .filter((i): i is number => i !== undefined),
      random: rng(options.seed ?? Math.floor(Math.random() * 2 ** 32)),
      temperature: options.temperature ?? 1,
      maxTokens: options.maxTokens,
      ignoreStop: options.ignoreStop === true,
      generated: 0,
      done: false,
    };
  }

  /**
   * One token for each sequence, with ONE forward pass for all of them: the dense layers
   * multiply the weight matrix by the B x D matrix of hidden states (each weight read once
   * per step, not once per sequence), which is what makes batching pay.
   */
  stepBatch(seqs: Sequence[]): Step[] {
    const D = this.dim;
    const H = new Float32Array(seqs.length * D);
    seqs.forEach((s, b) => this.embedContext(s.context, H, b * D));
    const out = this.forward(H, seqs.length);
    return seqs.map((s, b) => {
      const next = sample(this.logits(s.context, out, b * D), s.temperature, s.random);
      s.context.push(next);
      s.generated++;
      const text = decode([this.vocab[next]!]);
      const cut = text.indexOf('\n\n');
      // A blank line ends a paragraph of the corpus: the model's natural stop.
      if (cut >= 0 && !s.ignoreStop) {
        s.done = true;
        return { text: text.slice(0, cut), finishReason: 'stop' };
      }
      if (s.generated >= s.maxTokens) {
        s.done = true;
        return { text, finishReason: 'length' };
      }
      return { text };
    });
  }

  /** Generates one token per step, alone (a batch of one). Each step is synchronous CPU work; the caller decides when to yield. */
  *generate(prompt: string, options: GenerateOptions): Generator<Step> {
    const seq = this.startSequence(prompt, options);
    while (!seq.done && seq.maxTokens > 0) yield this.stepBatch([seq])[0]!;
  }

  /** Embeddings of many texts in one forward pass: the last hidden state, unit length. */
  embed(texts: string[]): { vector: number[]; tokens: number }[] {
    const D = this.dim;
    const H = new Float32Array(texts.length * D);
    const tokens = texts.map((t, b) => {
      const ids = encode(t);
      const known = ids.map((id) => this.index.get(id)).filter((i): i is number => i !== undefined);
      this.embedContext(known, H, b * D, Number.POSITIVE_INFINITY);
      return ids.length;
    });
    const out = this.forward(H, texts.length);
    return texts.map((_, b) => {
      let norm = 0;
      for (let d = 0; d < D; d++) norm += out[b * D + d]! ** 2;
      const k = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      return { vector: Array.from(out.subarray(b * D, (b + 1) * D), (x) => x * k), tokens: tokens[b]! };
    });
  }

  /** The hidden state a context starts from: its last tokens' embeddings, fading with distance. */
  private embedContext(context: number[], into: Float32Array, at: number, span = 8): void {
    const D = this.dim;
    let w = 1;
    for (let k = context.length - 1; k >= Math.max(0, context.length - span); k--, w *= 0.7) {
      const off = context[k]! * D;
      for (let d = 0; d < D; d++) into[at + d]! += w * this.emb[off + d]!;
    }
  }

  /**
   * The dense layers on B hidden states at once (B x D, a row per sequence): per layer,
   * tanh(H W^T). The inner kernel takes 4 weight rows x 4 sequences: each weight and each
   * hidden value loaded is used 4 times, where one sequence alone uses each weight once.
   */
  private forward(input: Float32Array, B: number): Float32Array {
    const D = this.dim;
    let h: Float32Array = input;
    let out: Float32Array = new Float32Array(B * D);
    for (let l = 0; l < this.layers; l++) {
      const base = l * D * D;
      let b = 0;
      for (; b + 4 <= B; b += 4) {
        let i = 0;
        for (; i + 4 <= D; i += 4) this.kernel4x4(base + i * D, h, b * D, out, i);
        for (; i < D; i++) for (let k = 0; k < 4; k++) this.dot1(base + i * D, h, (b + k) * D, out, i);
      }
      for (; b < B; b++) for (let i = 0; i < D; i++) this.dot1(base + i * D, h, b * D, out, i);
      [h, out] = [out, h === input ? new Float32Array(B * D) : h];
    }
    return h;
  }

  /** out[b..b+3][i..i+3] = tanh(W[i..i+3] . h[b..b+3]); `row` is W's offset of row i, `hb` h's of sequence b. */
  private kernel4x4(row: number, h: Float32Array, hb: number, out: Float32Array, i: number): void {
    const W = this.weights;
    const D = this.dim;
    const r1 = row + D;
    const r2 = r1 + D;
    const r3 = r2 + D;
    const h1 = hb + D;
    const h2 = h1 + D;
    const h3 = h2 + D;
    let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
    let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
    for (let j = 0; j < D; j++) {
      const x0 = h[hb + j]!;
      const x1 = h[h1 + j]!;
      const x2 = h[h2 + j]!;
      const x3 = h[h3 + j]!;
      const w0 = W[row + j]!;
      const w1 = W[r1 + j]!;
      const w2 = W[r2 + j]!;
      const w3 = W[r3 + j]!;
      s00 += w0 * x0; s01 += w0 * x1; s02 += w0 * x2; s03 += w0 * x3;
      s10 += w1 * x0; s11 += w1 * x1; s12 += w1 * x2; s13 += w1 * x3;
      s20 += w2 * x0; s21 += w2 * x1; s22 += w2 * x2; s23 += w2 * x3;
      s30 += w3 * x0; s31 += w3 * x1; s32 += w3 * x2; s33 += w3 * x3;
    }
    out[hb + i] = Math.tanh(s00); out[hb + i + 1] = Math.tanh(s10); out[hb + i + 2] = Math.tanh(s20); out[hb + i + 3] = Math.tanh(s30);
    out[h1 + i] = Math.tanh(s01); out[h1 + i + 1] = Math.tanh(s11); out[h1 + i + 2] = Math.tanh(s21); out[h1 + i + 3] = Math.tanh(s31);
    out[h2 + i] = Math.tanh(s02); out[h2 + i + 1] = Math.tanh(s12); out[h2 + i + 2] = Math.tanh(s22); out[h2 + i + 3] = Math.tanh(s32);
    out[h3 + i] = Math.tanh(s03); out[h3 + i + 1] = Math.tanh(s13); out[h3 + i + 2] = Math.tanh(s23); out[h3 + i + 3] = Math.tanh(s33);
  }

  /** out[b][i] = tanh(W[i] . h[b]): one sequence alone, a matrix-vector product's row. */
  private dot1(row: number, h: Float32Array, hb: number, out: Float32Array, i: number): void {
    const W = this.weights;
    let s = 0;
    for (let j = 0; j < this.dim; j++) s += W[row + j]! * h[hb + j]!;
    out[hb + i] = Math.tanh(s);
  }

  /** Scores over the vocabulary for one sequence: n-gram counts, ties broken by the hidden state. */
  private logits(context: number[], hidden: Float32Array, at: number): Float64Array {
    const D = this.dim;
    const V = this.vocab.length;
    const a = context[context.length - 1];
    const b = context[context.length - 2];
    const counts = (a !== undefined && b !== undefined ? this.trigram.get(b * V + a) : undefined) ?? (a !== undefined ? this.bigram.get(a) : undefined);
    const logits = new Float64Array(V);
    for (let v = 0; v < V; v++) {
      let dot = 0;
      const off = v * D;
      for (let d = 0; d < D; d++) dot += hidden[at + d]! * this.emb[off + d]!;
      const count = counts ? (counts.get(v) ?? 0) : this.unigram[v]!;
      // The n-gram counts decide; the hidden state only breaks ties between likely tokens.
      logits[v] = Math.log(count + 1e-4) + (0.05 * dot) / Math.sqrt(D);
    }
    return logits;
  }
}

/** One generation in progress (see `TinyLM.startSequence`). */
export interface Sequence {
  context: number[];
  random: () => number;
  temperature: number;
  maxTokens: number;
  ignoreStop: boolean;
  generated: number;
  done: boolean;
}

function bump(table: Map<number, Map<number, number>>, key: number, next: number): void {
  let row = table.get(key);
  if (!row) table.set(key, (row = new Map()));
  row.set(next, (row.get(next) ?? 0) + 1);
}

function sample(logits: Float64Array, temperature: number, random: () => number): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature <= 0) return best;
  let total = 0;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) total += p[i] = Math.exp((logits[i]! - logits[best]!) / temperature);
  let r = random() * total;
  for (let i = 0; i < p.length; i++) {
    r -= p[i]!;
    if (r <= 0) return i;
  }
  return best;
}
