/**
 * OpenTelemetry SDK setup for both processes: spans go to an OTLP/HTTP endpoint (Jaeger's
 * collector listens on :4318 with `docker run -p 16686:16686 -p 4318:4318
 * jaegertracing/all-in-one`). The main process imports this module itself; each web process
 * imports it first through `.withTracing(url)`. OTEL_EXPORTER_OTLP_ENDPOINT changes the
 * endpoint, as everywhere in OpenTelemetry.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);

/** Sends what is buffered before the process exits. */
export function flushTraces(): Promise<void> {
  return provider.forceFlush();
}
