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

  /** Generates one token per step. Each step is synchronous CPU work; the caller decides when to yield. */
  *generate(prompt: string, options: GenerateOptions): Generator<Step> {
    const temperature = options.temperature ?? 1;
    const random = rng(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    // Prompt tokens outside the corpus vocabulary carry no statistics here; they are skipped.
    const context = encode(prompt)
      .map((id) => this.index.get(id))
      .filter((i): i is number => i !== undefined);
    for (let n = 1; n <= options.maxTokens; n++) {
      const next = this.step(context, temperature, random);
      context.push(next);
      const text = decode([this.vocab[next]!]);
      const cut = text.indexOf('\n\n');
      // A blank line ends a paragraph of the corpus: the model's natural stop.
      if (cut >= 0 && !options.ignoreStop) {
        yield { text: text.slice(0, cut), finishReason: 'stop' };
        return;
      }
      yield n === options.maxTokens ? { text, finishReason: 'length' } : { text };
    }
  }

  /** One forward pass: context vector -> dense layers -> scores over the vocabulary -> sample. */
  private step(context: number[], temperature: number, random: () => number): number {
    const D = this.dim;
    const V = this.vocab.length;
    let h = new Float32Array(D);
    let w = 1;
    for (let k = context.length - 1; k >= Math.max(0, context.length - 8); k--, w *= 0.7) {
      const off = context[k]! * D;
      for (let d = 0; d < D; d++) h[d]! += w * this.emb[off + d]!;
    }
    let out = new Float32Array(D);
    for (let l = 0; l < this.layers; l++) {
      const base = l * D * D;
      for (let i = 0; i < D; i++) {
        let s = 0;
        const row = base + i * D;
        for (let j = 0; j < D; j++) s += this.weights[row + j]! * h[j]!;
        out[i] = Math.tanh(s);
      }
      [h, out] = [out, h];
    }
    const a = context[context.length - 1];
    const b = context[context.length - 2];
    const counts = (a !== undefined && b !== undefined ? this.trigram.get(b * V + a) : undefined) ?? (a !== undefined ? this.bigram.get(a) : undefined);
    const logits = new Float64Array(V);
    for (let v = 0; v < V; v++) {
      let dot = 0;
      const off = v * D;
      for (let d = 0; d < D; d++) dot += h[d]! * this.emb[off + d]!;
      const count = counts ? (counts.get(v) ?? 0) : this.unigram[v]!;
      // The n-gram counts decide; the hidden state only breaks ties between likely tokens.
      logits[v] = Math.log(count + 1e-4) + (0.05 * dot) / Math.sqrt(D);
    }
    return sample(logits, temperature, random);
  }
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
