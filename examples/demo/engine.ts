/**
 * The demo's engine: OpenAI-style completions from the TinyLM, in the main process.
 * A JSON completion runs to the end in one synchronous call, as a native inference call
 * would hold its thread; a streamed one yields to the event loop between tokens.
 */
import { EngineError, type EngineContext, type StepHandler, type StepOutput } from '../../src/index.js';
import type { GenerateOptions, Sequence, TinyLM } from './model.js';

/** What the route module sends: the OpenAI request, already validated by its schema. */
export interface CompletionRequest {
  /** Optional, as in vLLM: the one model this engine serves. */
  model?: string;
  prompt: string;
  max_tokens: number;
  temperature: number;
  seed?: number;
  ignore_eos?: boolean;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { text: string; index: number; finish_reason: 'stop' | 'length' | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Only the engine knows which model it serves: a request for another is OpenAI's 404. */
export function checkModel(model: TinyLM, req: { model?: string }): void {
  if (req.model !== undefined && req.model !== model.name) {
    throw new EngineError(404, `The model '${req.model}' does not exist; this server has '${model.name}'.`, 'MODEL_NOT_FOUND', { param: 'model' });
  }
}

function options(req: CompletionRequest): GenerateOptions {
  return { maxTokens: req.max_tokens, temperature: req.temperature, ignoreStop: req.ignore_eos === true, ...(req.seed !== undefined ? { seed: req.seed } : {}) };
}

export function complete(model: TinyLM, req: CompletionRequest, ctx: EngineContext): Completion {
  checkModel(model, req);
  let text = '';
  let n = 0;
  let finish: 'stop' | 'length' = 'length';
  for (const step of model.generate(req.prompt, options(req))) {
    text += step.text;
    n++;
    if (step.finishReason) finish = step.finishReason;
  }
  const promptTokens = model.countTokens(req.prompt);
  return {
    id: `cmpl-${ctx.id}`,
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: model.name,
    choices: [{ text, index: 0, finish_reason: finish }],
    usage: { prompt_tokens: promptTokens, completion_tokens: n, total_tokens: promptTokens + n },
  };
}

/** One chunk per token, OpenAI's stream format; the last carries finish_reason and usage. */
export async function* completeStream(model: TinyLM, req: CompletionRequest, ctx: EngineContext): AsyncGenerator<Completion> {
  checkModel(model, req);
  const id = `cmpl-${ctx.id}`;
  const created = Math.floor(Date.now() / 1000);
  const promptTokens = model.countTokens(req.prompt);
  let n = 0;
  for (const step of model.generate(req.prompt, options(req))) {
    // The client left: stop spending CPU on tokens nobody reads.
    if (ctx.signal.aborted) return;
    n++;
    const chunk: Completion = { id, object: 'text_completion', created, model: model.name, choices: [{ text: step.text, index: 0, finish_reason: step.finishReason ?? null }] };
    if (step.finishReason) chunk.usage = { prompt_tokens: promptTokens, completion_tokens: n, total_tokens: promptTokens + n };
    yield chunk;
    // Let other requests' tokens and IPC traffic through between two tokens.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** One completion in the running batch. */
interface Running {
  seq: Sequence;
  id: string;
  created: number;
  promptTokens: number;
  text: string;
  finish: 'stop' | 'length' | null;
}

/**
 * Continuous batching for /v1/completions: every active completion gets its next token
 * from ONE forward pass per step (`model.stepBatch`); new requests join between two
 * steps, finished and cancelled ones leave. A JSON caller gets the whole completion at
 * the end; a stream gets one chunk per token.
 */
export function completionSteps(model: TinyLM, maxBatchSize = 16): StepHandler<CompletionRequest, Running, Completion> {
  const chunkOf = (r: Running, text: string): Completion => ({ id: r.id, object: 'text_completion', created: r.created, model: model.name, choices: [{ text, index: 0, finish_reason: r.finish }] });
  const usage = (r: Running) => ({ prompt_tokens: r.promptTokens, completion_tokens: r.seq.generated, total_tokens: r.promptTokens + r.seq.generated });
  return {
    maxBatchSize,
    maxQueue: 256,
    start(req, ctx) {
      checkModel(model, req);
      return { seq: model.startSequence(req.prompt, options(req)), id: `cmpl-${ctx.id}`, created: Math.floor(Date.now() / 1000), promptTokens: model.countTokens(req.prompt), text: '', finish: null };
    },
    step(running, ctxs): StepOutput<Completion>[] {
      return model.stepBatch(running.map((r) => r.seq)).map((step, i) => {
        const r = running[i]!;
        r.text += step.text;
        if (step.finishReason) r.finish = step.finishReason;
        const done = r.seq.done || r.seq.maxTokens <= 0;
        if (!ctxs[i]!.isStream) return { done };
        const chunk = chunkOf(r, step.text);
        if (done) chunk.usage = usage(r);
        return { chunk, done };
      });
    },
    result: (r) => ({ ...chunkOf(r, r.text), usage: usage(r) }),
  };
}

export interface EmbeddingRequest {
  input: string | string[];
  model?: string;
}

export interface Embeddings {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/**
 * Unary batching for /v1/embeddings: the inputs of every request in the batch go through
 * ONE forward pass; each request gets its own vectors back (or its own 404 for a model
 * this engine does not serve, without failing the others).
 */
export function embedBatch(model: TinyLM) {
  return (requests: EmbeddingRequest[]): (Embeddings | Error)[] => {
    const texts: string[] = [];
    const spans = requests.map((req) => {
      try {
        checkModel(model, req);
      } catch (err) {
        return err as Error;
      }
      const inputs = Array.isArray(req.input) ? req.input : [req.input];
      texts.push(...inputs);
      return { from: texts.length - inputs.length, count: inputs.length };
    });
    const vectors = texts.length > 0 ? model.embed(texts) : [];
    return spans.map((span) => {
      if (span instanceof Error) return span;
      const mine = vectors.slice(span.from, span.from + span.count);
      const tokens = mine.reduce((n, v) => n + v.tokens, 0);
      return {
        object: 'list',
        data: mine.map((v, index) => ({ object: 'embedding', index, embedding: v.vector })),
        model: model.name,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    });
  };
}
