import type { Span } from '@opentelemetry/api';
import type { Outcome, PendingRequest } from '../engine/pending.js';
import { appinfraTracer, otel, remoteContext } from './tracing.js';

/**
 * The engine's span for one request: a child of the web process's server span, whose
 * context came over the transport in the envelope's `traceparent`.
 */
export function engineSpan(p: PendingRequest): Span {
  const span = appinfraTracer().startSpan(
    `engine ${p.route ?? '(default)'}`,
    { kind: otel().SpanKind.CONSUMER, attributes: { 'appinfra.id': p.id, 'appinfra.route': p.route ?? '', 'appinfra.reply_to': p.replyTo, 'appinfra.port': p.port, 'appinfra.stream': p.isStream } },
    remoteContext(p.traceparent, p.traceparent ? { traceparent: p.traceparent } : undefined),
  );
  if (p.arrived === 0) p.arrived = performance.now();
  return span;
}

/** Records the request's outcome, queue wait, handler time and chunk count, and ends the span. */
export function endEngineSpan(p: PendingRequest, outcome: Outcome): void {
  const span = p.span!;
  p.span = undefined;
  const now = performance.now();
  const taken = p.taken || now;
  span.setAttribute('appinfra.outcome', outcome);
  span.setAttribute('appinfra.queue_wait_ms', taken - p.arrived);
  span.setAttribute('appinfra.engine_ms', now - taken);
  if (p.isStream) span.setAttribute('appinfra.chunks', p.chunks);
  if (outcome === 'failed') span.setStatus({ code: otel().SpanStatusCode.ERROR });
  span.end();
}
