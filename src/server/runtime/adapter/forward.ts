import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { IPCChannel } from '../../../channel/channel.js';
import { toWireError } from '../../../errors.js';
import type { ForwardRoute } from '../../routes.js';
import { engineRequest, traceparentOf } from './ingress.js';

/** What an engine handler receives for a forward route: the HTTP request as plain data. */
export interface ForwardRequest {
  id: string;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

/** Registers one forward route: the ingress adapter of seed 000 for HTTP JSON and SSE. */
export function registerForward(app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number): void {
  const schema: Record<string, unknown> = { ...(route.schema ?? {}) };
  if (route.tags) schema.tags = route.tags;
  if (route.summary) schema.summary = route.summary;
  if (route.description) schema.description = route.description;
  const timeout = route.timeout ?? defaultTimeout;
  const handler = route.reply === 'sse' ? sseHandler(route, channel, timeout) : jsonHandler(route, channel, timeout);
  app.route({ method: route.methods, url: route.path, schema, handler });
}

function jsonHandler(route: ForwardRoute, channel: IPCChannel, timeout: number) {
  const status = route.status ?? 200;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const request = engineRequest(channel, req, req.body);
    const res = reply.raw;
    // The client leaving before we answer cancels the engine's work (WEB-08).
    const onClose = (): void => {
      if (!res.writableFinished) channel.cancel(request.id);
    };
    res.once('close', onClose);
    try {
      const result = await channel.submit(request, { route: route.handler, timeout, traceparent: traceparentOf(req) });
      reply.code(status);
      return result === undefined ? null : result;
    } catch (err) {
      res.off('close', onClose);
      throw err;
    }
  };
}

function sseHandler(route: ForwardRoute, channel: IPCChannel, timeout: number) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const request = engineRequest(channel, req, req.body);
    const stream = channel.submitStreaming(request, { route: route.handler, timeout, traceparent: traceparentOf(req), ...(route.window ? { window: route.window } : {}) });
    // Wait for the first chunk before committing to 200: admission and early engine
    // errors still get their own HTTP status.
    const first = await stream.next();
    const res = reply.raw;
    reply.hijack();
    res.writeHead(route.status ?? 200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    let gone = false;
    const onClose = (): void => {
      if (!res.writableFinished) {
        gone = true;
        void stream.return?.();
      }
    };
    res.once('close', onClose);
    try {
      if (!first.done) await writeEvent(res, first.value);
      while (!gone) {
        const r = await stream.next();
        if (r.done) break;
        await writeEvent(res, r.value);
      }
    } catch (err) {
      if (!gone) {
        const wire = toWireError(err);
        res.write(`event: error\ndata: ${JSON.stringify({ statusCode: wire.status, code: wire.code, message: wire.message })}\n\n`);
      }
    } finally {
      res.off('close', onClose);
      if (!res.writableEnded) res.end();
    }
  };
}

/**
 * Writes one SSE event; waits for `drain` (or the socket closing) when the client is slow.
 * Events written in the same tick (a batch of chunks that arrived together) leave in one
 * write: the response is corked until the next tick, instead of one syscall per event.
 */
function writeEvent(res: ServerResponse, chunk: unknown): Promise<void> | void {
  if (res.destroyed) return;
  if (!res.writableCorked) {
    res.cork();
    process.nextTick(uncork, res);
  }
  if (res.write(`data: ${JSON.stringify(chunk)}\n\n`)) return;
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

function uncork(res: ServerResponse): void {
  res.uncork();
}
