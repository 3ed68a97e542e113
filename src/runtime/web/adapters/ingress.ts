import type { FastifyRequest } from 'fastify';
import type { IPCChannel } from '../../../channel/channel.js';
import { errorBody, toWireError, type StreamErrorBody } from '../../../errors/index.js';
import { RawForward, type ForwardRequest } from '../../../contract/request.js';
import { RawJsonBody } from './json-body.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The correlation id of the engine request this HTTP request made ('' before it made one). */
    appinfraId: string;
  }
}

/**
 * The engine request of every protocol adapter has the forward-route shape, so one engine
 * handler serves HTTP JSON, SSE, WebSocket and GraphQL: `body` carries the input (the JSON
 * body, a WebSocket frame's `data`, a GraphQL field's arguments).
 */
export function engineRequest(channel: IPCChannel, req: FastifyRequest, body: unknown): ForwardRequest | RawForward {
  const id = channel.nextId();
  req.appinfraId = id;
  const params = (req.params ?? {}) as Record<string, string>;
  const query = (req.query ?? {}) as Record<string, unknown>;
  if (body instanceof RawJsonBody) return new RawForward({ id, method: req.method, path: req.url, params, query }, body.text);
  return { id, method: req.method, path: req.url, params, query, body };
}

/** The trace context a request goes on with: its server span's when tracing, else the client's header as it came. */
export function traceparentOf(req: FastifyRequest): string | undefined {
  if (req.appinfraTraceparent) return req.appinfraTraceparent;
  const tp = req.headers.traceparent;
  return typeof tp === 'string' ? tp : undefined;
}

/** What a client may see of an error in a stream frame: the deterministic wire mapping, never a stack. */
export function clientError(err: unknown): StreamErrorBody {
  return errorBody(toWireError(err), 'stream');
}
