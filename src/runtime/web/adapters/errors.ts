import { METHODS } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppinfraError, OverloadedError, errorBody, toWireError, wireErrorOf } from '../../../errors/index.js';
import type { ExceptionHandlerSpec } from '../extras.js';
import type { ExceptionCallback } from '../lifecycle.js';
import { UnsupportedMediaTypeError } from './content-types.js';
import { payloadTooLarge } from './payload.js';

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

/**
 * Errors raised in this process are logged with their stack; errors that came back from
 * the engine (or are the framework's own 503/504) carry no useful stack here, so they
 * get one line: the engine logs its own failure with the real stack.
 */
function logFailure(request: FastifyRequest, error: Error, status: number, code: string): void {
  if (error instanceof OverloadedError) {
    // Refusing at admission is the server working as configured, and a burst refuses
    // thousands: one line each would drown the log (the access log still shows the 503s).
    request.log.debug({ status, code, url: request.url }, error.message);
  } else if (error instanceof AppinfraError) {
    request.log.warn({ status, code, url: request.url }, error.message);
  } else {
    request.log.error({ err: error }, "request failed");
  }
}

function classDepth(cls: object): number {
  let depth = 0;
  for (let p = Object.getPrototypeOf(cls); p; p = Object.getPrototypeOf(p)) depth++;
  return depth;
}

/**
 * The handler for `error` as Starlette picks it: the most derived matching class wins,
 * whatever the registration order. A handler for `Error` itself is the catch-all for
 * unhandled errors only: validation errors and client errors (4xx) keep their own
 * answers, as FastAPI's `Exception` handler never sees them.
 */
function pickHandler(handlers: ExceptionHandlerSpec[], error: FastifyError): ExceptionHandlerSpec | undefined {
  const status = error.statusCode;
  const clientError = Boolean(error.validation) || (typeof status === 'number' && status >= 400 && status < 500);
  let best: ExceptionHandlerSpec | undefined;
  let bestDepth = -1;
  for (const h of handlers) {
    if (!(error instanceof h.errorClass) || (h.errorClass === Error && clientError)) continue;
    const depth = classDepth(h.errorClass);
    if (depth > bestDepth) {
      best = h;
      bestDepth = depth;
    }
  }
  return best;
}

/**
 * One error path for every route: the user's exception handler for the error's class
 * first, then validation errors as 422 with field paths, then the deterministic
 * mapping of `toWireError`. A stack never reaches the client; 5xx are logged here.
 */
export function installErrorHandling(app: FastifyInstance, handlers: ExceptionHandlerSpec[], onException?: ExceptionCallback): void {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (onException) {
      // The on_exception callbacks see every error first and may shape the answer.
      try {
        const shaped = await onException(error, request, reply);
        if (reply.sent) return reply;
        if (shaped !== undefined) return reply.send(shaped);
      } catch (callbackError) {
        error = callbackError as FastifyError;
      }
    }
    // Fastify's own 415 (no parser for the type) says only "Unsupported Media Type": the same answer as a text body on a JSON route.
    if (error?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') error = new UnsupportedMediaTypeError(request.headers['content-type']) as unknown as FastifyError;
    if (error?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') error = payloadTooLarge(request) as unknown as FastifyError;
    const handler = error instanceof Error ? pickHandler(handlers, error) : undefined;
    if (handler) {
      try {
        return await handler.handler(error, request, reply);
      } catch (handlerError) {
        // A failing exception handler must not fall through to Fastify's default handler,
        // which would send its message to the client: answer (and log) the generic 500 below.
        error = handlerError as FastifyError;
      }
    }
    if (error?.validation) {
      const detail = validationDetail(error);
      const wire = wireErrorOf('VALIDATION_ERROR', detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; '));
      return reply.code(wire.status).send(errorBody(wire, 'http', { detail }));
    }
    const wire = toWireError(error);
    if (wire.status >= 500) logFailure(request, error, wire.status, wire.code);
    if (error instanceof OverloadedError) reply.header('retry-after', String(error.retryAfter));
    return reply.code(wire.status).send(errorBody(wire));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allow = allowedMethods(app, request.url);
    if (allow.length > 0) {
      const allowed = allow.join(', ');
      const wire = wireErrorOf('METHOD_NOT_ALLOWED', `Route ${path} does not allow ${request.method}; it allows ${allowed}`);
      return reply.code(wire.status).header('allow', allowed).send(errorBody(wire));
    }
    const wire = wireErrorOf('NOT_FOUND', `Route ${request.method} ${path} not found`);
    return reply.code(wire.status).send(errorBody(wire));
  });
}

/**
 * The methods some route answers at this URL. OPTIONS alone does not make a path known:
 * the CORS plugin answers preflights on every path.
 */
function allowedMethods(app: FastifyInstance, url: string): string[] {
  const allow = METHODS.filter((method) => app.findRoute({ method: method as 'GET', url }) !== null);
  return allow.some((m) => m !== 'OPTIONS') ? allow : [];
}
