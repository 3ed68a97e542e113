import type { FastifyInstance } from 'fastify';
import { errorBody, wireErrorOf } from '../../../errors/index.js';
import { channels } from '../../../observability/diagnostics.js';

/**
 * uvicorn's `limit_concurrency`: past `limit` requests in progress in this process, new
 * ones get 503 at once. The count is released on the response's `close`, which fires
 * whether the response finished or the client went away.
 */
export function installConcurrencyLimit(app: FastifyInstance, limit: number, replyTo: string): void {
  let inFlight = 0;
  app.addHook('onRequest', (request, reply, done) => {
    if (inFlight >= limit) {
      if (channels.rejected.hasSubscribers) {
        const tp = request.headers.traceparent;
        channels.rejected.publish({ route: request.routeOptions.url, replyTo, traceparent: typeof tp === 'string' ? tp : undefined, reason: 'concurrency' });
      }
      const wire = wireErrorOf('APPINFRA_ERR_CONCURRENCY', `Too many requests in progress (limit ${limit}), retry later`);
      reply.code(wire.status).header('retry-after', '1').send(errorBody(wire));
      return;
    }
    inFlight++;
    reply.raw.once('close', () => {
      inFlight--;
    });
    done();
  });
}
