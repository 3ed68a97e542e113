import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { requestLoggers } from './request-logger.js';

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
  // As buildApp does: Fastify has no logger of its own; the app's and each request's are ours.
  const app = Fastify({ logController: new LogController({ disableRequestLogging: true }), childLoggerFactory: requestLoggers(root as unknown as FastifyBaseLogger) });
  (app as { log: FastifyBaseLogger }).log = root as unknown as FastifyBaseLogger;
  // Fastify adds no listener of its own to a response when it has no logger and the route no onResponse hook.
  app.get('/quiet', async (req, reply) => ({ level: req.log.level, finish: reply.raw.listenerCount('finish') }));
  app.get('/loud', async (req) => {
    req.log.info({ n: 1 }, 'from the route');
    req.log.debug('below the level: not written');
    return { ok: true };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const atStart = children;

  const bare = await (await fetch(`${url}/quiet`)).json();
  for (let i = 0; i < 4; i++) assert.deepEqual(await (await fetch(`${url}/quiet`)).json(), bare);
  assert.equal((bare as { level: string }).level, 'info');
  // The same route on a Fastify that has a logger of its own: one more listener on each response.
  const withLogger = Fastify({ loggerInstance: pino({ level: 'info' }, sink), logController: new LogController({ disableRequestLogging: true }) });
  withLogger.get('/quiet', async (_req, reply) => ({ finish: reply.raw.listenerCount('finish') }));
  const other = await withLogger.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => withLogger.close());
  const theirs = (await (await fetch(`${other}/quiet`)).json()) as { finish: number };
  assert.equal((bare as { finish: number }).finish, theirs.finish - 1, 'no listener of Fastify\'s own on a response');
  assert.equal(children, atStart, 'no child for requests that never log');

  assert.deepEqual(await (await fetch(`${url}/loud`)).json(), { ok: true });
  assert.equal(children, atStart + 1);
  const line = lines.find((l) => l.msg === 'from the route');
  assert.ok(line, 'the line was written');
  assert.match(String(line.reqId), /^req-/, 'bound to the request id');
  assert.equal(line.n, 1);
  assert.ok(!lines.some((l) => l.msg === 'below the level: not written'));
  app.log.warn('from the app');
  assert.ok(lines.some((l) => l.msg === 'from the app' && l.reqId === undefined), 'app.log is the root logger');
});
