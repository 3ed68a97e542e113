import { AppinfraError, EngineError, OverloadedError } from './classes.js';
import { CODES, type ErrorCode } from './codes.js';

/** The wire form of an error reply: what crosses the process boundary and what a client may see. */
export interface WireError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

const GENERIC_500: WireError = { status: 500, code: 'INTERNAL_ERROR', message: 'Internal Server Error' };

/**
 * Deterministic mapping from anything thrown to what a client may see (WEB-04).
 * Only errors that carry an explicit numeric status in 400..599 keep their message;
 * everything else is a generic 500, so a stack or an internal message never leaks.
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof AppinfraError) {
    const wire: WireError = { status: err.status, code: err.code, message: err.message };
    if (err.details !== undefined) wire.details = err.details;
    return wire;
  }
  if (err && typeof err === 'object') {
    const e = err as { status?: unknown; statusCode?: unknown; code?: unknown; message?: unknown; expose?: unknown };
    const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
    if (status !== undefined && status >= 400 && status <= 599 && Number.isInteger(status)) {
      return {
        status,
        code: typeof e.code === 'string' ? e.code : 'ERROR',
        message: typeof e.message === 'string' && status < 500 ? e.message : status >= 500 ? 'Internal Server Error' : 'Error',
      };
    }
  }
  return { ...GENERIC_500 };
}

/** A framework answer by its code: the table's status, and its default message unless a more precise one is given. */
export function wireErrorOf(code: ErrorCode, message: string = CODES[code].message): WireError {
  return { status: CODES[code].status, code, message };
}

/** Turns a wire error back into a throwable on the web side. */
export function fromWireError(wire: WireError): AppinfraError {
  // A transport that admits asynchronously (the Redis backbone) refuses by an error reply: it keeps its Retry-After.
  if (wire.code === 'APPINFRA_ERR_OVERLOADED') return new OverloadedError(wire.message);
  return new EngineError(wire.status, wire.message, wire.code, wire.details);
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 426: 'Upgrade Required',
  429: 'Too Many Requests', 499: 'Client Closed Request', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** An HTTP error answer's body; `error` is the status's reason phrase. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  [extra: string]: unknown;
}

/** An error inside a stream that is already answering (an SSE `error` event, a WebSocket error frame): no reason phrase. */
export interface StreamErrorBody {
  statusCode: number;
  code: string;
  message: string;
}

/**
 * The one builder of what a client sees of an error. `http`: the body of an error answer
 * (`details` when the error has some, plus `extra`, e.g. the 422's field list); `stream`:
 * the part an SSE event or a WebSocket frame carries. Never a stack.
 */
export function errorBody(wire: WireError, form: 'stream'): StreamErrorBody;
export function errorBody(wire: WireError, form?: 'http', extra?: Record<string, unknown>): ErrorBody;
export function errorBody(wire: WireError, form: 'http' | 'stream' = 'http', extra: Record<string, unknown> = {}): ErrorBody | StreamErrorBody {
  if (form === 'stream') return { statusCode: wire.status, code: wire.code, message: wire.message };
  const body: ErrorBody = { statusCode: wire.status, code: wire.code, error: STATUS_TEXT[wire.status] ?? 'Error', message: wire.message };
  if (wire.details !== undefined) body.details = wire.details;
  return Object.assign(body, extra);
}
