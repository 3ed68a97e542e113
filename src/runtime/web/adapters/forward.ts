import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IPCChannel } from '../../../channel/channel.js';
import type { ForwardRoute } from '../../../contract/web-spec.js';
import { engineRequest, traceparentOf } from './ingress.js';
import { replySse } from './sse.js';

/** Registers one forward route: the ingress adapter of seed 000 for HTTP JSON and SSE. */
export function registerForward(app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number): void {
  const schema: Record<string, unknown> = { ...(route.schema ?? {}) };
  if (route.tags) schema.tags = route.tags;
  if (route.summary) schema.summary = route.summary;
  if (route.description) schema.description = route.description;
  const timeout = route.timeout ?? defaultTimeout;
  const handler = route.reply === 'sse' ? sseHandler(route, channel, timeout) : jsonHandler(route, channel, timeout);
  app.route({ method: route.methods, url: route.path, schema, handler, ...(route.strict ? { config: { strict: true } } : {}) });
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
    await replySse(reply, stream, route.status === undefined ? {} : { status: route.status });
  };
}
