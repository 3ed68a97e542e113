import type { FastifyInstance } from 'fastify';
import { traceIdOf } from '../../../observability/trace-context.js';

/**
 * uvicorn's access log: one line per response, written whatever the server's log
 * level (uvicorn logs access at info on its own logger, independent of `log_level`).
 */
export function installAccessLog(app: FastifyInstance): void {
  const access = app.log.child({ logger: 'access' }, { level: 'info' });
  app.addHook('onResponse', (request, reply, done) => {
    // The same ids as the engine's `ctx.log` lines: one grep finds the request on both sides.
    const tp = request.appinfraTraceparent ?? request.headers.traceparent;
    const traceId = typeof tp === 'string' ? traceIdOf(tp) : undefined;
    access.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, remote: request.ip, reqId: request.appinfraId || undefined, traceId },
      `${request.ip} - "${request.method} ${request.url} HTTP/${request.raw.httpVersion}" ${reply.statusCode}`,
    );
    done();
  });
}
