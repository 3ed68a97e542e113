/**
 * Tracing to Jaeger (OTLP/HTTP), metrics and the status page on one server:
 *
 *   node --import tsx examples/observability/main.ts
 *   curl -s localhost:8000/v1/echo -H 'content-type: application/json' -d '{"hi": 1}'
 *   open http://localhost:16686 (Jaeger), http://127.0.0.1:8000/_status, curl :8000/metrics
 *
 * One trace per request: the web process's server span `POST /v1/echo` and, as its child,
 * the engine's `engine echo` span with the handler's own `lookup` span inside it.
 */
import { trace } from '@opentelemetry/api';
import { Queue, ServerBuilder } from '../../src/index.js';
import { flushTraces } from './otel-setup.js';

const server = new ServerBuilder('observed')
  .withPort(Number(process.env.PORT ?? 8000))
  .withTracing(new URL('./otel-setup.ts', import.meta.url))
  .withMetrics()
  .withStatusPage()
  .routes.withForward('/v1/echo', { methods: ['POST'], handler: 'echo' })
  .done()
  .subprocess.withIpc(new Queue(), new Queue())
  .done()
  .uvicorn.withAccessLog(true)
  .done()
  .build();

server.engine.handle('echo', (req, ctx) => {
  ctx.log.info({ keys: Object.keys(req.body ?? {}) }, 'echoing');
  return trace.getTracer('example').startActiveSpan('lookup', (span) => {
    span.end();
    return req.body;
  });
});

await server.start();
await flushTraces();
