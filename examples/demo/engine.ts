/**
 * The demo's engine: OpenAI-style completions from the TinyLM, in the main process.
 * A JSON completion runs to the end in one synchronous call, as a native inference call
 * would hold its thread; a streamed one yields to the event loop between tokens.
 */
import { EngineError, type EngineContext } from '../../src/index.js';
import type { GenerateOptions, TinyLM } from './model.js';

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
function checkModel(model: TinyLM, req: CompletionRequest): void {
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
