import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BuildError,
  CallbackError,
  ChannelClosedError,
  ClientGoneError,
  CODES,
  ConfigError,
  EncodeError,
  EngineError,
  errorBody,
  ListenError,
  OverloadedError,
  QueueClosedError,
  QueueEmptyError,
  ResponseTimeoutError,
  StateError,
  toWireError,
  wireErrorOf,
} from './index.js';

test('the table: every code and the status it answers with', () => {
  const statuses = Object.fromEntries(Object.entries(CODES).map(([code, row]) => [code, row.status]));
  assert.deepEqual(statuses, {
    APPINFRA_ERR_CONFIG: 500,
    APPINFRA_ERR_ENGINE_MODULE: 500,
    APPINFRA_ERR_BUILD: 500,
    APPINFRA_ERR_ROUTE: 500,
    APPINFRA_ERR_ROUTE_MODULE: 500,
    APPINFRA_ERR_STATE: 500,
    APPINFRA_ERR_LISTEN: 500,
    APPINFRA_ERR_WEB_START: 500,
    APPINFRA_ERR_CALLBACK: 500,
    APPINFRA_ERR_OVERLOADED: 503,
    APPINFRA_ERR_CONCURRENCY: 503,
    APPINFRA_ERR_UNAVAILABLE: 503,
    APPINFRA_ERR_CHANNEL_CLOSED: 503,
    APPINFRA_ERR_TIMEOUT: 504,
    APPINFRA_ERR_WORKER_LOST: 502,
    APPINFRA_ERR_CLIENT_GONE: 499,
    APPINFRA_ERR_ENCODE: 500,
    APPINFRA_ERR_DECODE: 500,
    APPINFRA_ERR_GROUP_LOST: 502,
    APPINFRA_ERR_GROUP_UNAVAILABLE: 503,
    APPINFRA_ERR_QUEUE_EMPTY: 500,
    APPINFRA_ERR_QUEUE_CLOSED: 500,
    APPINFRA_ERR_STATUS_TOKEN: 401,
    ENGINE_ERROR: 500,
    NO_HANDLER: 501,
    DUPLICATE_ID: 409,
    INTERNAL_ERROR: 500,
    ERROR: 500,
    VALIDATION_ERROR: 422,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    UNSUPPORTED_MEDIA_TYPE: 415,
    UPGRADE_REQUIRED: 426,
    RATE_LIMITED: 429,
    UNAUTHORIZED: 401,
    FORBIDDEN: 403,
    PAYLOAD_TOO_LARGE: 413,
    BAD_FRAME: 400,
    SHUTTING_DOWN: 503,
    STREAM_EXISTS: 409,
    TOO_MANY_STREAMS: 429,
    NO_SUCH_STREAM: 404,
  });
  for (const [code, row] of Object.entries(CODES)) assert.ok(row.message.length > 0, `${code} has no default message`);
});

test('every error class takes its code and status from the table; the precise codes of a class are its own', () => {
  const seen = [
    new ConfigError('x'),
    new ConfigError('x', undefined, 'APPINFRA_ERR_ENGINE_MODULE'),
    new BuildError('x'),
    new BuildError('x', 'APPINFRA_ERR_ROUTE'),
    new BuildError('x', 'APPINFRA_ERR_ROUTE_MODULE'),
    new StateError('x'),
    new StateError('x', 'APPINFRA_ERR_WEB_START'),
    new ListenError('127.0.0.1', 80, 'EACCES'),
    new OverloadedError(),
    new ResponseTimeoutError(),
    new ChannelClosedError(),
    new ClientGoneError(),
    new QueueEmptyError(),
    new QueueClosedError(),
    new CallbackError('startup', 'warmUp', new Error('x')),
    new EncodeError('json', 'response', new TypeError('BigInt')),
  ];
  for (const err of seen) {
    assert.ok(Object.hasOwn(CODES, err.code), `${err.name}: ${err.code} is not in the table`);
    assert.equal(err.status, CODES[err.code as keyof typeof CODES].status, err.code);
  }
  assert.ok(new ListenError('h', 1, 'EADDRINUSE') instanceof StateError);
  assert.equal(new OverloadedError().message, CODES.APPINFRA_ERR_OVERLOADED.message);
});

test('the one error body: an HTTP answer has the reason phrase, a stream event does not; never a stack', () => {
  const engine = toWireError(new EngineError(409, 'That name is taken', 'TAKEN', { name: 'x' }));
  assert.deepEqual(errorBody(engine), { statusCode: 409, code: 'TAKEN', error: 'Conflict', message: 'That name is taken', details: { name: 'x' } });
  assert.deepEqual(errorBody(engine, 'stream'), { statusCode: 409, code: 'TAKEN', message: 'That name is taken' });
  assert.deepEqual(errorBody(wireErrorOf('VALIDATION_ERROR', 'body.n: must be integer'), 'http', { detail: [] }), {
    statusCode: 422,
    code: 'VALIDATION_ERROR',
    error: 'Unprocessable Entity',
    message: 'body.n: must be integer',
    detail: [],
  });
  assert.deepEqual(errorBody(wireErrorOf('APPINFRA_ERR_UNAVAILABLE')), {
    statusCode: 503,
    code: 'APPINFRA_ERR_UNAVAILABLE',
    error: 'Service Unavailable',
    message: 'No web process is running; see /_health and the server log',
  });
  const crash = errorBody(toWireError(new Error('secret at /home/x')));
  assert.deepEqual(crash, { statusCode: 500, code: 'INTERNAL_ERROR', error: 'Internal Server Error', message: 'Internal Server Error' });
  assert.equal(errorBody(toWireError({ status: 418 })).error, 'Error');
});
