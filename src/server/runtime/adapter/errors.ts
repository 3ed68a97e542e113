import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OverloadedError, toWireError } from '../../../errors.js';
import type { ExceptionHandlerSpec } from '../../routes.js';

interface ValidationItem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** Ajv's errors as FastAPI shows them: a location path per failing field. */
function validationDetail(err: FastifyError): ValidationItem[] {
  const where = err.validationContext ?? 'body';
  return (err.validation ?? []).map((v) => {
    const loc: (string | number)[] = [where, ...v.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))];
    const missing = (v.params as { missingProperty?: string })?.missingProperty;
    const extra = (v.params as { additionalProperty?: string })?.additionalProperty;
    if (missing) loc.push(missing);
    if (extra) loc.push(extra);
    return { loc, msg: v.message ?? 'is invalid', type: v.keyword };
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 499: 'Client Closed Request', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/**
 * One error path for every route: user exception handlers first (first `instanceof`
 * match), then validation errors as 422 with field paths, then the deterministic
 * mapping of `toWireError`. A stack never reaches the client; 5xx are logged here.
 */
export function installErrorHandling(app: FastifyInstance, handlers: ExceptionHandlerSpec[]): void {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    for (const h of handlers) {
      if (error instanceof h.errorClass) return h.handler(error, request, reply);
    }
    if (error.validation) {
      const detail = validationDetail(error);
      return reply.code(422).send({
        statusCode: 422,
        code: 'VALIDATION_ERROR',
        error: STATUS_TEXT[422],
        message: detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; '),
        detail,
      });
    }
    const wire = toWireError(error);
    if (wire.status >= 500) request.log.error({ err: error, reqId: request.id }, 'request failed');
    if (error instanceof OverloadedError) reply.header('retry-after', String(error.retryAfter));
    const body: Record<string, unknown> = { statusCode: wire.status, code: wire.code, error: STATUS_TEXT[wire.status] ?? 'Error', message: wire.message };
    if (wire.details !== undefined) body.details = wire.details;
    return reply.code(wire.status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `Route ${request.method} ${request.url.split('?')[0]} not found` });
  });
}
