import type { FastifyInstance } from 'fastify';
import { errorBody, wireErrorOf } from '../../../errors/index.js';

/**
 * uvicorn's `limit_concurrency`: past `limit` requests in progress in this process, new
 * ones get 503 at once. The count is released on the response's `close`, which fires
 * whether the response finished or the client went away.
 */
export function installConcurrencyLimit(app: FastifyInstance, limit: number): void {
  let inFlight = 0;
  app.addHook('onRequest', (request, reply, done) => {
    if (inFlight >= limit) {
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
