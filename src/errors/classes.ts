import { CODES, type ErrorCode } from './codes.js';
import { isInstance, markClasses } from '../contract/same-class.js';

/**
 * Every error the framework raises is a class with a stable `code` (codes.ts), a message
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

  /** Any copy's instance counts (contract/same-class.ts): a web process can hold two copies of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

/** A configuration value is wrong: raised at construction or load time, never at request time. */
export class ConfigError extends AppinfraError {
  constructor(message: string, details?: unknown, code: ConfigErrorCode = 'APPINFRA_ERR_CONFIG') {
    super(code, message, CODES[code].status, details);
  }
}

/** What made a configuration wrong: a value (or a file holding values), or an engine module that does not import. */
export type ConfigErrorCode = Extract<ErrorCode, 'APPINFRA_ERR_CONFIG' | 'APPINFRA_ERR_ENGINE_MODULE'>;

/** A builder was used in a way that cannot work (for example an inline closure in subprocess mode). */
export class BuildError extends AppinfraError {
  constructor(message: string, code: BuildErrorCode = 'APPINFRA_ERR_BUILD') {
    super(code, message, CODES[code].status);
  }
}

/** What a builder refused: its use, a route declaration, a route module that cannot be loaded. */
export type BuildErrorCode = Extract<ErrorCode, 'APPINFRA_ERR_BUILD' | 'APPINFRA_ERR_ROUTE' | 'APPINFRA_ERR_ROUTE_MODULE'>;

/** A runtime object was used in the wrong state (stop before start, start twice, ...). */
export class StateError extends AppinfraError {
  constructor(message: string, code: StateErrorCode = 'APPINFRA_ERR_STATE') {
    super(code, message, CODES[code].status);
  }
}

/** What a runtime object could not do: a call in the wrong state, an address it cannot bind, a web process that did not start. */
export type StateErrorCode = Extract<ErrorCode, 'APPINFRA_ERR_STATE' | 'APPINFRA_ERR_LISTEN' | 'APPINFRA_ERR_WEB_START'>;

/** Admission refused: too many requests waiting for the engine. Maps to 503 + Retry-After. */
export class OverloadedError extends AppinfraError {
  readonly retryAfter: number;
  constructor(message: string = CODES.APPINFRA_ERR_OVERLOADED.message, retryAfter = 1, details?: unknown) {
    super('APPINFRA_ERR_OVERLOADED', message, CODES.APPINFRA_ERR_OVERLOADED.status, details);
    this.retryAfter = retryAfter;
  }
}

/** The engine did not answer before the deadline. Maps to 504. */
export class ResponseTimeoutError extends AppinfraError {
  constructor(message: string = CODES.APPINFRA_ERR_TIMEOUT.message) {
    super('APPINFRA_ERR_TIMEOUT', message, CODES.APPINFRA_ERR_TIMEOUT.status);
  }
}

/** The channel to the engine is closed or down. Maps to 503. */
export class ChannelClosedError extends AppinfraError {
  constructor(message: string = CODES.APPINFRA_ERR_CHANNEL_CLOSED.message) {
    super('APPINFRA_ERR_CHANNEL_CLOSED', message, CODES.APPINFRA_ERR_CHANNEL_CLOSED.status);
  }
}

/** The client went away; nobody will read the answer. 499 as nginx logs it. */
export class ClientGoneError extends AppinfraError {
  constructor(message: string = CODES.APPINFRA_ERR_CLIENT_GONE.message) {
    super('APPINFRA_ERR_CLIENT_GONE', message, CODES.APPINFRA_ERR_CLIENT_GONE.status);
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

/**
 * A lifecycle callback failed (the Python original's `CallbackError`): the message names
 * the callback and what it threw. A failing startup callback stops the start.
 */
export class CallbackError extends AppinfraError {
  readonly callback: string;
  readonly stage: string;
  constructor(stage: string, callback: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('APPINFRA_ERR_CALLBACK', `${stage[0]!.toUpperCase()}${stage.slice(1)} callback "${callback}" failed: ${why}`, CODES.APPINFRA_ERR_CALLBACK.status);
    this.callback = callback;
    this.stage = stage;
  }

  /** The same error, rebuilt from the message a web process sent (the cause stays there, in its log). */
  static fromMessage(stage: string, callback: string, message: string): CallbackError {
    const err = new CallbackError(stage, callback, '');
    err.message = message;
    return err;
  }
}

/** Python's queue.Empty: `Queue.get({ timeout })` found nothing in time. */
export class QueueEmptyError extends AppinfraError {
  constructor() {
    super('APPINFRA_ERR_QUEUE_EMPTY', CODES.APPINFRA_ERR_QUEUE_EMPTY.message, CODES.APPINFRA_ERR_QUEUE_EMPTY.status);
  }
}

/** The queue was closed; nothing more will arrive. */
export class QueueClosedError extends AppinfraError {
  constructor() {
    super('APPINFRA_ERR_QUEUE_CLOSED', CODES.APPINFRA_ERR_QUEUE_CLOSED.message, CODES.APPINFRA_ERR_QUEUE_CLOSED.status);
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
      CODES.APPINFRA_ERR_ENCODE.status,
    );
    this.codec = codec;
    this.reason = cause instanceof Error ? cause.message : String(cause);
    this.cause = cause;
  }
}

/** Bytes received from the other process do not decode into a value: that request alone fails, with a generic 500. */
export class DecodeError extends AppinfraError {
  constructor(cause: unknown) {
    super('APPINFRA_ERR_DECODE', CODES.APPINFRA_ERR_DECODE.message, CODES.APPINFRA_ERR_DECODE.status);
    this.cause = cause;
  }
}

/**
 * A client's JSON body that is not one JSON value, or that holds a `__proto__` or
 * `constructor.prototype` key: Fastify's own answer (code and message), whichever process
 * parsed the body.
 */
export class InvalidJsonBodyError extends AppinfraError {
  constructor() {
    super('FST_ERR_CTP_INVALID_JSON_BODY', "Body is not valid JSON but content-type is set to 'application/json'", 400);
  }
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
    super(`cannot listen on ${host}:${port}: ${reason}; choose another port (withPort), or 0 for a free one`, 'APPINFRA_ERR_LISTEN');
    this.host = host;
    this.port = port;
    this.reason = reason;
  }
}

markClasses({ AppinfraError, ConfigError, BuildError, StateError, OverloadedError, ResponseTimeoutError, ChannelClosedError, ClientGoneError, EngineError, CallbackError, QueueEmptyError, QueueClosedError, EncodeError, DecodeError, InvalidJsonBodyError, ListenError });
