/**
 * The demo's errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`:
 * OpenAI's client libraries read `error.message` from it, where the framework's own
 * shape would leave them with "422 Unprocessable Entity". Web-process code: routes.ts
 * installs it as the error handler of its routes.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppinfraError } from '../../src/web.js';

export interface OpenAIError {
  error: { message: string; type: 'invalid_request_error' | 'server_error'; param: string | null; code: string | null };
}

interface AjvItem {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** What the request said, to quote the offending value as OpenAI does. */
export interface RequestContext {
  body?: unknown;
  /** The body's JSON Schema: tells an integer field from a decimal one. */
  schema?: { properties?: Record<string, { type?: string }> };
}

const kindOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

/** One schema violation as OpenAI words it, with the field as `param`. */
function fromValidation(v: AjvItem, ctx: RequestContext): { message: string; param: string | null; code: string } {
  const path = v.instancePath.split('/').filter(Boolean);
  const field = path.join('.');
  let value: unknown = ctx.body;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  const p = v.params;
  switch (v.keyword) {
    case 'required':
      return { message: `Missing required parameter: '${String(p.missingProperty)}'.`, param: String(p.missingProperty), code: 'missing_required_parameter' };
    case 'type': {
      const want = p.type === 'integer' ? 'an integer' : p.type === 'object' ? 'a JSON object' : `a ${String(p.type)}`;
      if (!field) return { message: `Invalid request body: expected ${want}, but got ${kindOf(value)} instead.`, param: null, code: 'invalid_type' };
      return { message: `Invalid type for '${field}': expected ${want}, but got ${kindOf(value)} instead.`, param: field, code: 'invalid_type' };
    }
    case 'minimum':
    case 'maximum': {
      const kind = ctx.schema?.properties?.[path[0] ?? '']?.type === 'integer' ? 'integer' : 'decimal';
      const below = v.keyword === 'minimum';
      return {
        message: `Invalid '${field}': ${kind} ${below ? 'below minimum' : 'above maximum'} value. Expected a value ${String(p.comparison)} ${String(p.limit)}, but got ${JSON.stringify(value)} instead.`,
        param: field,
        code: `${kind}_${below ? 'below_min' : 'above_max'}_value`,
      };
    }
    case 'maxLength':
      return { message: `Invalid '${field}': string too long. Expected a string with maximum length ${String(p.limit)}, but got a string with length ${String((value as string).length)} instead.`, param: field, code: 'string_above_max_length' };
    default:
      return { message: `Invalid '${field}': ${v.message ?? 'invalid value'}.`, param: field || null, code: 'invalid_value' };
  }
}

/** Status and body for anything a route of the demo throws; never a stack, never an internal message. */
export function toOpenAIError(error: unknown, ctx: RequestContext = {}): { status: number; body: OpenAIError } {
  const err = (error ?? {}) as Partial<FastifyError> & { details?: { param?: unknown } };
  if (Array.isArray(err.validation) && err.validation.length > 0) {
    // Like OpenAI, name one problem: the first.
    const { message, param, code } = fromValidation(err.validation[0] as unknown as AjvItem, ctx);
    return { status: 400, body: { error: { message, type: 'invalid_request_error', param, code } } };
  }
  // The framework's errors (the engine's EngineError among them) and Fastify's 4xx
  // (malformed JSON, unsupported media type, body too large) carry a message meant for
  // clients; anything else is a bug whose message stays in the log.
  const status = error instanceof AppinfraError ? error.status : typeof err.statusCode === 'number' ? err.statusCode : 500;
  const exposed = Number.isInteger(status) && status >= 400 && status <= 599 && (error instanceof AppinfraError || status < 500);
  if (!exposed) return { status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } };
  return {
    status,
    body: {
      error: {
        message: err.message || 'error',
        type: status < 500 ? 'invalid_request_error' : 'server_error',
        param: typeof err.details?.param === 'string' ? err.details.param : null,
        code: typeof err.code === 'string' ? err.code.toLowerCase() : null,
      },
    },
  };
}

/** An error handler for a route module: OpenAI's shape for every error of its routes. */
export function openaiErrorHandler(schema?: RequestContext['schema']) {
  return async (error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { status, body } = toOpenAIError(error, { body: request.body, ...(schema ? { schema } : {}) });
    // The engine logged its own failures with their stack; here only ours deserve one.
    if (status >= 500) request.log.error(error instanceof AppinfraError ? { status, code: error.code } : { err: error }, error instanceof AppinfraError ? error.message : 'request failed');
    return reply.code(status).send(body);
  };
}
