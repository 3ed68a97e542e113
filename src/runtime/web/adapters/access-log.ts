import type { FastifyInstance } from 'fastify';

/**
 * uvicorn's access log: one line per response, written whatever the server's log
 * level (uvicorn logs access at info on its own logger, independent of `log_level`).
 */
export function installAccessLog(app: FastifyInstance): void {
  const access = app.log.child({ logger: 'access' }, { level: 'info' });
  app.addHook('onResponse', (request, reply, done) => {
    access.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, remote: request.ip },
      `${request.ip} - "${request.method} ${request.url} HTTP/${request.raw.httpVersion}" ${reply.statusCode}`,
    );
    done();
  });
}
