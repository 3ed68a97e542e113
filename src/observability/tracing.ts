/**
 * OpenTelemetry spans through `@opentelemetry/api` only: the user registers an SDK (or
 * none). A server span per HTTP request in the web process; a child span per request in
 * the engine, linked through the `traceparent` the envelope carries, whatever the
 * transport. With no SDK registered nothing is recorded and nothing runs per request: the
 * web side installs its hooks only when a tracer provider is registered at build time, and
 * the engine checks one global before it starts a span.
 */
import type { Context, Span, Tracer } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from './trace-context.js';
import { lazyPackage } from '../process/lazy-package.js';

export const TRACER_NAME = 'appinfra';

/**
 * The API itself loads only once a provider is registered (its 44 files were 40 ms of every
 * process's start here). It keeps what is registered in one global per major version, which
 * every copy of the API in a process shares: nothing there, no SDK.
 */
export const otel = lazyPackage<typeof import('@opentelemetry/api')>('@opentelemetry/api');
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** What the API returns while no SDK is registered. */
let noopProvider: unknown;

/** True once the user registered a tracer provider (an SDK) in this process. */
export function isTracing(): boolean {
  if ((globalThis as Record<symbol, { trace?: unknown } | undefined>)[API_GLOBAL]?.trace === undefined) return false;
  const { ProxyTracerProvider, trace } = otel();
  noopProvider ??= new ProxyTracerProvider().getDelegate();
  const p = trace.getTracerProvider();
  return !(p instanceof ProxyTracerProvider) || p.getDelegate() !== noopProvider;
}

let tracer: Tracer | undefined;
export function appinfraTracer(): Tracer {
  return (tracer ??= otel().trace.getTracer(TRACER_NAME));
}

/**
 * The parent of a request's first span: what the registered propagator extracts from the
 * carrier (headers, or the envelope's `traceparent`), else the W3C `traceparent` itself, so
 * the hop works even when the user registered a tracer but no propagator.
 */
export function remoteContext(traceparent: string | undefined, carrier?: Record<string, unknown>): Context {
  const { propagation, trace, ROOT_CONTEXT } = otel();
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

