// What an application that uses the OpenTelemetry API but registered no SDK does: it takes
// a tracer. appinfra must then record nothing and cost nothing (the bench's sub-otel-api).
import { trace } from '@opentelemetry/api';

trace.getTracer('bench-app');
