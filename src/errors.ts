/**
 * Every error the framework raises is a class with a stable `code`, a message
 * that tells the user what to change, and a deterministic HTTP status.
 */
export class AppinfraError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra fields safe to show a client (never a stack). */
  readonly details?: unknown;

  constructor(code: string, message: string, status = 500, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    if (details !== undefined) this.details = details;
  }
}

/** A configuration value is wrong: raised at construction or load time, never at request time. */
export class ConfigError extends AppinfraError {
  constructor(message: string, details?: unknown) {
    super('APPINFRA_ERR_CONFIG', message, 500, details);
  }
}

/** A builder was used in a way that cannot work (for example an inline closure in subprocess mode). */
export class BuildError extends AppinfraError {
  constructor(message: string) {
    super('APPINFRA_ERR_BUILD', message, 500);
  }
}

/** A runtime object was used in the wrong state (stop before start, start twice, ...). */
export class StateError extends AppinfraError {
  constructor(message: string) {
    super('APPINFRA_ERR_STATE', message, 500);
  }
}

/** Admission refused: too many requests waiting for the engine. Maps to 503 + Retry-After. */
export class OverloadedError extends AppinfraError {
  readonly retryAfter: number;
  constructor(message = 'Server is at capacity, retry later', retryAfter = 1) {
    super('APPINFRA_ERR_OVERLOADED', message, 503);
    this.retryAfter = retryAfter;
  }
}

/** The engine did not answer before the deadline. Maps to 504. */
export class ResponseTimeoutError extends AppinfraError {
  constructor(message = 'The engine did not answer in time') {
    super('APPINFRA_ERR_TIMEOUT', message, 504);
  }
}

/** The channel to the engine is closed or down. Maps to 503. */
export class ChannelClosedError extends AppinfraError {
  constructor(message = 'The engine is not reachable') {
    super('APPINFRA_ERR_CHANNEL_CLOSED', message, 503);
  }
}

/** The client went away; nobody will read the answer. 499 as nginx logs it. */
export class ClientGoneError extends AppinfraError {
  constructor(message = 'The client closed the request') {
    super('APPINFRA_ERR_CLIENT_GONE', message, 499);
  }
}

/**
 * An error an engine handler throws on purpose: its status and code reach the client,
 * its message too (so keep it free of secrets). Any other thrown value becomes a 500
 * with a generic message.
 */
export class EngineError extends AppinfraError {
  constructor(status: number, message: string, code = 'ENGINE_ERROR', details?: unknown) {
    super(code, message, status, details);
  }
}

/** Python's queue.Empty: `Queue.get({ timeout })` found nothing in time. */
export class QueueEmptyError extends AppinfraError {
  constructor() {
    super('APPINFRA_ERR_QUEUE_EMPTY', 'Queue is empty', 500);
  }
}

/** The queue was closed; nothing more will arrive. */
export class QueueClosedError extends AppinfraError {
  constructor() {
    super('APPINFRA_ERR_QUEUE_CLOSED', 'Queue is closed', 500);
  }
}

/** What an envelope kind carries, in the words of an error message. */
const CARRIES: Record<string, string> = {
  request: 'request',
  response: 'reply',
  chunk: 'stream chunk',
  end: 'last stream chunk',
  error: 'error reply',
};

/**
 * A message holds a value the IPC codec cannot encode: a BigInt or a circular object for
 * `json`, a circular object or a Symbol for `msgpack`, a Symbol or a function for `v8`.
 * `Link.send` raises it before anything is queued, so the link stays usable and only the
 * request that carried the value fails. The codec's own words are in `reason` (and
 * `cause`): they may quote the value (v8 quotes a function's source), so they belong in
 * a log, never in a reply.
 */
export class EncodeError extends AppinfraError {
  readonly codec: string;
  readonly reason: string;

  constructor(codec: string, kind: string, cause: unknown) {
    const what = CARRIES[kind] ?? kind;
    super(
      'APPINFRA_ERR_ENCODE',
      `The ${what} cannot be sent to the other process: it holds a value the "${codec}" codec cannot encode ` +
        '(json: BigInt, circular objects; msgpack: circular objects, Symbols; v8: Symbols, functions). ' +
        'Convert it to plain data (numbers, strings, arrays, objects), or pick a codec that carries it with .subprocess.withCodec()',
      500,
    );
    this.codec = codec;
    this.reason = cause instanceof Error ? cause.message : String(cause);
    this.cause = cause;
  }
}

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

/** Turns a wire error back into a throwable on the web side. */
export function fromWireError(wire: WireError): AppinfraError {
  return new EngineError(wire.status, wire.message, wire.code, wire.details);
}

/**
 * The server cannot bind its address; `reason` is the system's code (EADDRINUSE, EACCES,
 * ...). The address is carried so a caller with other words for "port" (the CLI's
 * `--port`) can write its own hint.
 */
export class ListenError extends StateError {
  readonly host: string;
  readonly port: number;
  readonly reason: string;

  constructor(host: string, port: number, reason: string) {
    super(`cannot listen on ${host}:${port}: ${reason}; choose another port (withPort), or 0 for a free one`);
    this.host = host;
    this.port = port;
    this.reason = reason;
  }
}
