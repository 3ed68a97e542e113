import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { freePort, guardLeaks, json, waitFor } from '../helpers.js';
import { spawnScript } from '../proc.js';

guardLeaks();

test('the OTLP example exports the web process\'s and the engine\'s spans to a collector', { timeout: 90000 }, async () => {
  // A stand-in OTLP/HTTP collector: counts the export requests and the span names in them.
  const bodies: string[] = [];
  const collector = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(parts).toString('latin1'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const port = await freePort();
  const proc = spawnScript('examples/observability/main.ts', [], { PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/_health`).catch(() => undefined))?.ok === true, 60000, 'the example to serve');
    const res = await fetch(`${base}/v1/echo`, json({ hi: 1 }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('traceresponse') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await waitFor(() => bodies.some((b) => b.includes('POST /v1/echo')) && bodies.some((b) => b.includes('engine echo')) && bodies.some((b) => b.includes('lookup')), 30000, 'spans from both processes');
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    collector.close();
  }
});
