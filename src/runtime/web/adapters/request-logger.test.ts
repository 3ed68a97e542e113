import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { pino } from 'pino';
import { lazyRequestLogger } from './request-logger.js';

test('request.log becomes a pino child with the request id only when a route logs through it', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const root = pino({ level: 'info' }, sink);
  let children = 0;
  const child = root.child.bind(root);
  root.child = ((...args: Parameters<typeof root.child>) => {
    children++;
    return child(...args);
  }) as typeof root.child;
  const app = Fastify({ loggerInstance: root, disableRequestLogging: true, childLoggerFactory: lazyRequestLogger });
  app.get('/quiet', async (req) => ({ level: req.log.level }));
  app.get('/loud', async (req) => {
    req.log.info({ n: 1 }, 'from the route');
    req.log.debug('below the level: not written');
    return { ok: true };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const atStart = children;

  for (let i = 0; i < 5; i++) assert.deepEqual(await (await fetch(`${url}/quiet`)).json(), { level: 'info' });
  assert.equal(children, atStart, 'no child for requests that never log');

  assert.deepEqual(await (await fetch(`${url}/loud`)).json(), { ok: true });
  assert.equal(children, atStart + 1);
  const line = lines.find((l) => l.msg === 'from the route');
  assert.ok(line, 'the line was written');
  assert.match(String(line.reqId), /^req-/, 'bound to the request id');
  assert.equal(line.n, 1);
  assert.ok(!lines.some((l) => l.msg === 'below the level: not written'));
});
