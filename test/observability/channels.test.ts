import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe, tracingChannel } from 'node:diagnostics_channel';
import { ServerBuilder, EngineError, CHANNEL_NAMES, REQUEST_TRACING, type Server, type RequestTraceContext } from '../../src/index.js';
import { guardLeaks, json } from '../helpers.js';

let server: Server;
let base: string;
guardLeaks({ cleanup: () => server?.stop(2) });

before(async () => {
  server = new ServerBuilder('channels')
    .withPort(0)
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/teapot', { handler: 'teapot' })
    .done()
    .build();
  server.engine.handle('echo', (req) => req.body);
  server.engine.handle('teapot', () => {
    throw new EngineError(418, 'short and stout', 'TEAPOT');
  });
  base = (await server.listen()).url;
});

test('the request lifecycle on the appinfra:request TracingChannel, and the named channels', async () => {
  const events: [string, RequestTraceContext][] = [];
  const handlers = {
    start: (m: unknown) => void events.push(['start', { ...(m as RequestTraceContext) }]),
    end: (m: unknown) => void events.push(['end', { ...(m as RequestTraceContext) }]),
    asyncStart: (m: unknown) => void events.push(['asyncStart', { ...(m as RequestTraceContext) }]),
    asyncEnd: (m: unknown) => void events.push(['asyncEnd', { ...(m as RequestTraceContext) }]),
    error: (m: unknown) => void events.push(['error', { ...(m as RequestTraceContext) }]),
  };
  const named: Record<string, unknown[]> = {};
  const listeners = Object.fromEntries(Object.values(CHANNEL_NAMES).map((n) => [n, (m: unknown) => void (named[n] ??= []).push(m)]));
  const tc = tracingChannel(REQUEST_TRACING);
  tc.subscribe(handlers);
  for (const [n, l] of Object.entries(listeners)) subscribe(n, l);
  try {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.equal((await fetch(`${base}/echo`, { ...json({ x: 1 }), headers: { 'content-type': 'application/json', traceparent: tp } })).status, 200);
    assert.deepEqual(events.map((e) => e[0]), ['start', 'end', 'asyncStart', 'asyncEnd']);
    const start = events[0]![1];
    assert.equal(start.route, 'echo');
    assert.equal(start.replyTo, 'direct');
    assert.equal(start.traceparent, tp);
    assert.equal(events[3]![1].outcome, 'ok');
    assert.equal(events[3]![1].id, start.id, 'one context object per request');

    const ingress = named['appinfra:ingress']![0] as Record<string, unknown>;
    assert.deepEqual({ ...ingress, id: undefined }, { id: undefined, route: 'echo', port: 'request', replyTo: 'direct', traceparent: tp });
    assert.deepEqual(named['appinfra:handoff']![0], { id: start.id, route: 'echo', replyTo: 'direct', traceparent: tp, transport: 'memory', target: 'engine' });
    const dispatch = named['appinfra:dispatch']![0] as Record<string, unknown>;
    assert.equal(dispatch.via, 'handler');
    assert.equal(dispatch.id, start.id);
    const egress = named['appinfra:egress']![0] as Record<string, unknown>;
    assert.equal(egress.outcome, 'ok');
    assert.equal(egress.status, 200);
    assert.equal(typeof egress.ms, 'number');

    events.length = 0;
    assert.equal((await fetch(`${base}/teapot`)).status, 418);
    assert.deepEqual(events.map((e) => e[0]), ['start', 'end', 'error']);
    assert.equal(events[2]![1].outcome, 'error');
    const failed = named['appinfra:egress']![1] as Record<string, unknown>;
    assert.equal(failed.status, 418);
    assert.equal(failed.outcome, 'error');
  } finally {
    tc.unsubscribe(handlers);
    for (const [n, l] of Object.entries(listeners)) unsubscribe(n, l);
  }
});
