import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { guardLeaks, json, waitFor } from '../helpers.js';

let server: Server;
let base: string;
const dir = guardLeaks({ tmp: 'appinfra-access-', cleanup: () => server?.stop(2) });
const logFile = join(dir, 'web.log');

before(async () => {
  server = new ServerBuilder('logs')
    .withPort(0)
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .withLogFile(logFile)
    .done()
    .uvicorn.withAccessLog(true)
    .done()
    .build();
  server.engine.handle('echo', (req, ctx) => ({ body: req.body, id: ctx.id }));
  base = (await server.listen()).url;
});

test('an access-log line carries the correlation id the engine saw and the trace id', async () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const res = await fetch(`${base}/echo`, { ...json({ a: 1 }), headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
  const { id } = (await res.json()) as { id: string };
  const lines = (): Record<string, unknown>[] =>
    readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.logger === 'access');
  await waitFor(() => lines().some((l) => l.url === '/echo'), 5000, 'the access-log line');
  const line = lines().find((l) => l.url === '/echo')!;
  assert.equal(line.reqId, id, 'the engine handler\'s ctx.id');
  assert.equal(line.traceId, traceId);
  assert.equal(line.statusCode, 200);
});
