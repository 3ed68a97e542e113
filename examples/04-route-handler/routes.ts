/**
 * Seed example 4: route handlers that talk to the main process through the IPCChannel.
 *
 * The web process imports this module (main.ts names it with `.routes.fromModule(url)`);
 * the engine's process never does. Handlers get the channel as `request.ipc` (the seed's
 * `Depends(get_ipc_channel)`), or as the plugin option `{ ipc }`.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EngineError, type IPCChannel } from '../../src/web.js';
import type { InternalRequest, InternalResponse, TokenChunk } from './protocol.js';

/** The seed's `InferenceRequest` model, as the JSON Schema the web process validates against (422 otherwise). */
const inferenceRequest = {
  type: 'object',
  required: ['data'],
  additionalProperties: false,
  properties: { data: { type: 'string', minLength: 1, maxLength: 10000 } },
} as const;

/** The seed's `InferenceResponse`: also what the response is serialised by. */
const inferenceResponse = {
  type: 'object',
  required: ['result'],
  properties: { result: { type: 'string' }, tokens: { type: 'integer' } },
} as const;

interface InferenceBody {
  data: string;
}

/** The seed's `get_ipc_channel` dependency. */
function getIpcChannel(request: FastifyRequest): IPCChannel {
  return request.ipc;
}

export default async function router(app: FastifyInstance): Promise<void> {
  app.post<{ Body: InferenceBody }>(
    '/inference',
    { schema: { body: inferenceRequest, response: { 200: inferenceResponse }, tags: ['inference'], summary: 'Run the model on `data` and answer once' } },
    async (request) => {
      const ipc = getIpcChannel(request);
      // Submit to the main process and wait for its response.
      const internalRequest: InternalRequest = { id: randomUUID(), data: request.body.data, stream: false };
      const response = (await ipc.submit(internalRequest, { timeout: 60 })) as InternalResponse;
      // The seed's `raise HTTPException(500, response.error)`: an EngineError's status and message reach the client.
      if (response.status === 'error') throw new EngineError(500, response.error ?? 'inference failed', 'INFERENCE_FAILED');
      return { result: response.result, tokens: response.tokens };
    },
  );

  app.post<{ Body: InferenceBody }>(
    '/inference/stream',
    { schema: { body: inferenceRequest, tags: ['inference'], summary: 'Run the model on `data`, one token per Server-Sent Event' } },
    async (request, reply) => {
      const ipc = getIpcChannel(request);
      const internalRequest: InternalRequest = { id: randomUUID(), data: request.body.data, stream: true };
      const chunks = ipc.submitStreaming(internalRequest) as AsyncIterableIterator<TokenChunk>;
      // Wait for the first chunk before answering 200: a full server (503), a late engine
      // (504) or an engine that refuses the request keep their own HTTP status.
      const first = await chunks.next();
      // The client hanging up ends the stream, and that cancels the engine's work.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) void chunks.return?.();
      });

      async function* generate(): AsyncGenerator<string> {
        if (first.done) return;
        yield `data: ${first.value.token}\n\n`;
        try {
          // Ends after the chunk with `isFinal: true`.
          for await (const chunk of chunks) yield `data: ${chunk.token}\n\n`;
        } catch (err) {
          // Headers are out: an error mid-stream becomes an SSE `error` event.
          if (!reply.raw.destroyed) yield `event: error\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`;
        }
      }

      reply.type('text/event-stream; charset=utf-8').header('cache-control', 'no-cache');
      return reply.send(Readable.from(generate()));
    },
  );
}
