import type { FastifyInstance } from 'fastify';
import type { Span } from '@opentelemetry/api';
import { appinfraTracer, otel, remoteContext, traceparentOfSpan } from '../../../observability/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span (only while a tracer provider is registered). */
    appinfraSpan: Span | null;
    /** The server span's own `traceparent`: the engine's span is its child. */
    appinfraTraceparent: string | null;
  }
}

/**
 * A server span per HTTP request (installed only when a tracer provider is registered).
 * Its context goes on to the engine in the envelope's `traceparent` and back to the client
 * in `traceparent` and `traceresponse` headers (W3C Trace Context Level 2), set on the raw
 * response so SSE replies, which write their head themselves, carry them too.
 */
export function installTracing(app: FastifyInstance): void {
  const tracer = appinfraTracer();
  app.decorateRequest('appinfraSpan', null);
  app.decorateRequest('appinfraTraceparent', null);
  app.addHook('onRequest', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const tp = req.headers.traceparent;
    const parent = remoteContext(typeof tp === 'string' ? tp : undefined, req.headers);
    const span = tracer.startSpan(
      `${req.method} ${route}`,
      { kind: otel().SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route, 'url.path': req.url.split('?', 1)[0]! } },
      parent,
    );
    req.appinfraSpan = span;
    const own = traceparentOfSpan(span);
    req.appinfraTraceparent = own;
    reply.raw.setHeader('traceparent', own);
    reply.raw.setHeader('traceresponse', own);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    endServerSpan(req.appinfraSpan, reply.statusCode, req.appinfraId);
    req.appinfraSpan = null;
    done();
  });
}

function endServerSpan(span: Span | null, status: number, id: string): void {
  if (!span) return;
  span.setAttribute('http.response.status_code', status);
  if (id) span.setAttribute('appinfra.id', id);
  if (status >= 500) span.setStatus({ code: otel().SpanStatusCode.ERROR });
  span.end();
}
