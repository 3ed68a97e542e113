import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { guardLeaks, json, waitFor } from '../helpers.js';

interface WebSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  pid: number;
}

const exporter = new InMemorySpanExporter();
const servers: Server[] = [];
const dir = guardLeaks({ tmp: 'appinfra-otel-', cleanup: () => Promise.all(servers.map((s) => s.stop(2))) });
const spansFile = () => join(dir, 'web-spans.jsonl');
let sub: string;
let direct: string;

const INCOMING = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

function engineHandlers(server: Server): void {
  server.engine.handle('echo', (req) => {
    // A span the handler makes nests under the engine's span (the active context).
    trace.getTracer('user-code').startActiveSpan('user work', (s) => s.end());
    return req.body;
  });
  server.engine.handle('count', async function* () {
    for (let i = 0; i < 3; i++) yield { i };
  });
}

before(async () => {
  // The main process's SDK, as a user registers it: in-memory, read by the assertions.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

  const setup = pathToFileURL(join(import.meta.dirname, 'fixtures/otel-web.ts'));
  setup.searchParams.set('out', spansFile());
  const s = new ServerBuilder('traced')
    .withPort(0)
    .withTracing(setup)
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/count', { handler: 'count', reply: 'sse' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .done()
    .build();
  engineHandlers(s);
  servers.push(s);
  sub = (await s.listen()).url;

  const d = new ServerBuilder('traced-direct')
    .withPort(0)
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .done()
    .build();
  engineHandlers(d);
  servers.push(d);
  direct = (await d.listen()).url;
});

after(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

function webSpans(): WebSpan[] {
  if (!existsSync(spansFile())) return [];
  // The web process may be in the middle of appending a line: only lines it has ended count.
  return readFileSync(spansFile(), 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l) as WebSpan);
}

function engineSpanOf(traceId: string, name: string): ReadableSpan | undefined {
  return exporter.getFinishedSpans().find((s) => s.spanContext().traceId === traceId && s.name === name);
}

test('subprocess: one trace across the web process and the engine, honouring the client traceparent', async () => {
  const res = await fetch(`${sub}/echo`, { ...json({ a: 1 }), headers: { 'content-type': 'application/json', traceparent: `00-${INCOMING.traceId}-${INCOMING.spanId}-01` } });
  assert.equal(res.status, 200);
  const tr = res.headers.get('traceresponse');
  assert.equal(res.headers.get('traceparent'), tr);
  assert.match(tr!, new RegExp(`^00-${INCOMING.traceId}-[0-9a-f]{16}-01$`));
  const serverSpanId = tr!.split('-')[2];

  await waitFor(() => webSpans().some((s) => s.spanId === serverSpanId), 5000, 'the web process to export its span');
  const web = webSpans().find((s) => s.spanId === serverSpanId)!;
  assert.notEqual(web.pid, process.pid, 'recorded in the web process');
  assert.equal(web.kind, SpanKind.SERVER);
  assert.equal(web.traceId, INCOMING.traceId);
  assert.equal(web.parentSpanId, INCOMING.spanId, 'child of the client span');
  assert.equal(web.name, 'POST /echo');
  assert.equal(web.attributes['http.route'], '/echo');
  assert.equal(web.attributes['http.response.status_code'], 200);
  assert.match(String(web.attributes['appinfra.id']), /^traced\.w0\.g1\./);

  const engine = engineSpanOf(INCOMING.traceId, 'engine echo');
  assert.ok(engine, 'the engine recorded a span in the same trace');
  assert.equal(engine.parentSpanContext?.spanId, serverSpanId, 'child of the web process span, over the pipe');
  assert.equal(engine.attributes['appinfra.id'], web.attributes['appinfra.id'], 'same correlation id on both sides');
  assert.equal(engine.attributes['appinfra.route'], 'echo');
  assert.equal(engine.attributes['appinfra.outcome'], 'completed');
  assert.equal(typeof engine.attributes['appinfra.queue_wait_ms'], 'number');
  assert.equal(typeof engine.attributes['appinfra.engine_ms'], 'number');
  const user = engineSpanOf(INCOMING.traceId, 'user work');
  assert.equal(user?.parentSpanContext?.spanId, engine.spanContext().spanId, 'handler spans nest under the engine span');
});

test('subprocess: a request without traceparent starts a trace; a stream span counts its chunks', async () => {
  const res = await fetch(`${sub}/count`);
  assert.equal(res.status, 200);
  await res.text();
  const tr = res.headers.get('traceresponse');
  assert.ok(tr, 'an SSE reply carries traceresponse too');
  const [, traceId, spanId] = tr.split('-');
  await waitFor(() => !!engineSpanOf(traceId!, 'engine count'), 5000, 'the engine span');
  const engine = engineSpanOf(traceId!, 'engine count')!;
  assert.equal(engine.parentSpanContext?.spanId, spanId);
  assert.equal(engine.attributes['appinfra.chunks'], 3);
  assert.equal(engine.attributes['appinfra.stream'], true);
});

test('direct mode: the same parent/child link over the in-process transport', async () => {
  const res = await fetch(`${direct}/echo`, json({ b: 2 }));
  assert.equal(res.status, 200);
  const [, traceId, spanId] = res.headers.get('traceresponse')!.split('-');
  const server = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === spanId);
  assert.equal(server?.kind, SpanKind.SERVER);
  const engine = engineSpanOf(traceId!, 'engine echo');
  assert.equal(engine?.parentSpanContext?.spanId, spanId);
});
