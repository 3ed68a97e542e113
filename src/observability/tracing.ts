/**
 * OpenTelemetry spans through `@opentelemetry/api` only: the user registers an SDK (or
 * none). A server span per HTTP request in the web process; a child span per request in
 * the engine, linked through the `traceparent` the envelope carries, whatever the
 * transport. With no SDK registered nothing is recorded and nothing runs per request: the
 * web side installs its hooks only when a tracer provider is registered at build time, and
 * the engine checks one global before it starts a span.
 */
import { ROOT_CONTEXT, ProxyTracerProvider, SpanKind, SpanStatusCode, propagation, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from './trace-context.js';

export const TRACER_NAME = 'appinfra';

/** What the API returns while no SDK is registered. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** True once the user registered a tracer provider (an SDK) in this process. */
export function isTracing(): boolean {
  const p = trace.getTracerProvider();
  return !(p instanceof ProxyTracerProvider) || p.getDelegate() !== NOOP_PROVIDER;
}

let tracer: Tracer | undefined;
export function appinfraTracer(): Tracer {
  return (tracer ??= trace.getTracer(TRACER_NAME));
}

/**
 * The parent of a request's first span: what the registered propagator extracts from the
 * carrier (headers, or the envelope's `traceparent`), else the W3C `traceparent` itself, so
 * the hop works even when the user registered a tracer but no propagator.
 */
export function remoteContext(traceparent: string | undefined, carrier?: Record<string, unknown>): Context {
  if (carrier) {
    const extracted = propagation.extract(ROOT_CONTEXT, carrier);
    if (trace.getSpanContext(extracted)) return extracted;
  }
  const sc = parseTraceparent(traceparent);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/** A span's own context as a `traceparent` value: what travels on to the engine and back to the client. */
export function traceparentOfSpan(span: Span): string {
  return formatTraceparent(span.spanContext());
}

export { SpanKind, SpanStatusCode };
