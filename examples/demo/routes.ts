/**
 * The demo's route module: imported by the web process (never the engine's code). One
 * OpenAI-style path answers JSON or, with `"stream": true`, Server-Sent Events ending
 * with `data: [DONE]` as OpenAI clients expect. The work happens in the engine, reached
 * through `ipc`.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { IPCChannel } from '../../src/index.js';

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
    model: { type: 'string', description: 'ignored: the demo serves one model' },
    prompt: { type: 'string', maxLength: 20000 },
    max_tokens: { type: 'integer', minimum: 1, maximum: 2048, default: 16 },
    temperature: { type: 'number', minimum: 0, maximum: 2, default: 1 },
    stream: { type: 'boolean', default: false },
    seed: { type: 'integer' },
    ignore_eos: { type: 'boolean', description: 'vLLM extension: do not stop at the end of a paragraph' },
  },
};

export default async function completions(app: FastifyInstance, { ipc }: { ipc: IPCChannel }): Promise<void> {
  app.post('/v1/completions', { schema: { body: bodySchema, tags: ['completions'], summary: 'OpenAI-style text completion (JSON, or SSE with "stream": true)' } }, async (req, reply) => {
    const b = req.body as Body;
    const request = { prompt: b.prompt, max_tokens: b.max_tokens ?? 16, temperature: b.temperature ?? 1, ...(b.seed !== undefined ? { seed: b.seed } : {}), ...(b.ignore_eos ? { ignore_eos: true } : {}) };
    if (!b.stream) return ipc.submit(request, { route: 'complete' });

    const stream = ipc.submitStreaming(request, { route: 'complete' });
    // The first chunk decides the status: admission (503) and early engine errors keep theirs.
    const first = await stream.next();
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    let gone = false;
    // The client hanging up ends the iterator, which cancels the engine's generation.
    const onClose = (): void => {
      if (!res.writableFinished) {
        gone = true;
        void stream.return?.();
      }
    };
    res.once('close', onClose);
    try {
      if (!first.done) await write(res, JSON.stringify(first.value));
      while (!gone) {
        const r = await stream.next();
        if (r.done) break;
        await write(res, JSON.stringify(r.value));
      }
      if (!gone) await write(res, '[DONE]');
    } catch (err) {
      const e = err as { status?: number; message?: string; code?: string };
      if (!gone) await write(res, JSON.stringify({ error: { message: e.message ?? 'error', type: e.code ?? 'engine_error', code: e.status ?? 500 } }));
    } finally {
      res.off('close', onClose);
      if (!res.writableEnded) res.end();
    }
  });
}

/** One SSE event; waits for `drain` when the client reads slowly. */
function write(res: ServerResponse, data: string): Promise<void> | void {
  if (res.destroyed || res.write(`data: ${data}\n\n`)) return;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
