/**
 * The demo's route module: imported by the web process (never the engine's code). One
 * OpenAI-style path answers JSON or, with `"stream": true`, Server-Sent Events ending
 * with `data: [DONE]` as OpenAI clients expect; its errors come in OpenAI's shape. The
 * work happens in the engine, reached through `ipc`.
 */
import type { FastifyInstance } from 'fastify';
import { replySse, type IPCChannel } from '../../src/web.js';
import { openaiErrorHandler, toOpenAIError } from './errors.js';

interface Body {
  prompt: string;
  max_tokens?: number;
  temperature?: number;
  stream?: boolean;
  seed?: number;
  ignore_eos?: boolean;
  model?: string;
}

const bodySchema = {
  type: 'object',
  required: ['prompt'],
  properties: {
    model: { type: 'string', description: 'optional: the demo serves one model, lighthouse-trigram-o200k; any other name is 404 model_not_found' },
    prompt: { type: 'string', maxLength: 20000 },
    max_tokens: { type: 'integer', minimum: 1, maximum: 2048, default: 16 },
    temperature: { type: 'number', minimum: 0, maximum: 2, default: 1 },
    stream: { type: 'boolean', default: false },
    seed: { type: 'integer' },
    ignore_eos: { type: 'boolean', description: 'vLLM extension: do not stop at the end of a paragraph' },
  },
};

const embeddingSchema = {
  type: 'object',
  required: ['input'],
  properties: {
    model: { type: 'string', description: 'optional: the one model this demo serves' },
    input: {
      description: 'a text, or a list of up to 256 texts',
      anyOf: [
        { type: 'string', maxLength: 20000 },
        { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', maxLength: 20000 } },
      ],
    },
    encoding_format: { type: 'string', enum: ['float'], default: 'float' },
  },
};

export default async function completions(app: FastifyInstance, { ipc }: { ipc: IPCChannel }): Promise<void> {
  // This plugin's own context: the handler covers these routes, not the rest of the app.
  app.setErrorHandler(openaiErrorHandler(bodySchema));
  // Strict, as OpenAI is: "max_tokens": "3" is a 400 naming max_tokens, not a quiet 3.
  app.post('/v1/completions', { config: { strict: true }, schema: { body: bodySchema, tags: ['completions'], summary: 'OpenAI-style text completion (JSON, or SSE with "stream": true)' } }, async (req, reply) => {
    const b = req.body as Body;
    const request = {
      prompt: b.prompt,
      max_tokens: b.max_tokens ?? 16,
      temperature: b.temperature ?? 1,
      ...(b.model !== undefined ? { model: b.model } : {}),
      ...(b.seed !== undefined ? { seed: b.seed } : {}),
      ...(b.ignore_eos ? { ignore_eos: true } : {}),
    };
    if (!b.stream) return ipc.submit(request, { route: 'complete' });

    // Hanging up cancels the generation. A failure before the first chunk (an unknown model)
    // is an ordinary error reply; one mid-stream, an error event in the same shape.
    await replySse(reply, ipc.submitStreaming(request, { route: 'complete' }), {
      done: '[DONE]',
      errorEvent: (err) => `data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`,
    });
  });

  // Served by dynamic batching in the engine: concurrent requests share one forward pass.
  app.post('/v1/embeddings', { config: { strict: true }, schema: { body: embeddingSchema, tags: ['embeddings'], summary: 'OpenAI-style embeddings (one vector per input)' } }, async (req) => {
    const b = req.body as { input: string | string[]; model?: string };
    return ipc.submit({ input: b.input, ...(b.model !== undefined ? { model: b.model } : {}) }, { route: 'embed' });
  });
}
