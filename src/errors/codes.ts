/**
 * Every error code the framework raises or answers with, its HTTP status and its default
 * message: one table, as Fastify's lib/errors.js, pinned by codes.test.ts. Every class in
 * classes.ts and every error body the web side builds takes its code from here.
 *
 * Two families, on purpose: `APPINFRA_ERR_*` names a condition of the framework itself
 * (configuration, state, the engine link, admission); plain words (`NOT_FOUND`,
 * `VALIDATION_ERROR`, ...) name an HTTP-level answer a client may switch on, as FastAPI's
 * and Starlette's do. An engine handler's own codes (`EngineError`) are the user's.
 */
export const CODES = {
  // Raised while a program sets up: a message that says what to change.
  APPINFRA_ERR_CONFIG: { status: 500, message: 'A configuration value is wrong' },
  APPINFRA_ERR_ENGINE_MODULE: { status: 500, message: 'The engine module an app file names cannot be imported' },
  APPINFRA_ERR_BUILD: { status: 500, message: 'A builder was used in a way that cannot work' },
  APPINFRA_ERR_ROUTE: { status: 500, message: 'A route declaration is wrong' },
  APPINFRA_ERR_ROUTE_MODULE: { status: 500, message: 'A route module cannot be loaded' },
  APPINFRA_ERR_STATE: { status: 500, message: 'Not possible in the current state' },
  APPINFRA_ERR_LISTEN: { status: 500, message: 'The server cannot bind its address' },
  APPINFRA_ERR_WEB_START: { status: 500, message: 'A web process did not start' },
  APPINFRA_ERR_CALLBACK: { status: 500, message: 'A lifecycle callback failed' },
  // At request time, between the web side and the engine.
  APPINFRA_ERR_OVERLOADED: { status: 503, message: 'Server is at capacity, retry later' },
  APPINFRA_ERR_CONCURRENCY: { status: 503, message: 'Too many requests in progress, retry later' },
  APPINFRA_ERR_UNAVAILABLE: { status: 503, message: 'No web process is running; see /_health and the server log' },
  APPINFRA_ERR_CHANNEL_CLOSED: { status: 503, message: 'The engine is not reachable' },
  APPINFRA_ERR_TIMEOUT: { status: 504, message: 'The engine did not answer in time' },
  APPINFRA_ERR_WORKER_LOST: { status: 502, message: 'The engine worker running this request stopped; the request was not run again (it is not marked idempotent)' },
  APPINFRA_ERR_CLIENT_GONE: { status: 499, message: 'The client closed the request' },
  APPINFRA_ERR_ENCODE: { status: 500, message: 'A value cannot be sent to the other process' },
  APPINFRA_ERR_DECODE: { status: 500, message: 'A value received from the other process cannot be decoded' },
  APPINFRA_ERR_GROUP_LOST: { status: 502, message: 'The process group process serving this request exited' },
  APPINFRA_ERR_GROUP_UNAVAILABLE: { status: 503, message: 'The process group has no ready process' },
  APPINFRA_ERR_QUEUE_EMPTY: { status: 500, message: 'Queue is empty' },
  APPINFRA_ERR_QUEUE_CLOSED: { status: 500, message: 'Queue is closed' },
  APPINFRA_ERR_STATUS_TOKEN: { status: 401, message: 'The status page needs its token: ?token=... or an Authorization: Bearer header' },
  // Engine handlers: the default code of an EngineError, and the engine's own refusals.
  ENGINE_ERROR: { status: 500, message: 'The engine handler failed' },
  NO_HANDLER: { status: 501, message: 'No engine handler for this route' },
  DUPLICATE_ID: { status: 409, message: 'A request with this id is already in progress' },
  // HTTP-level answers of the web side.
  INTERNAL_ERROR: { status: 500, message: 'Internal Server Error' },
  ERROR: { status: 500, message: 'Error' },
  VALIDATION_ERROR: { status: 422, message: 'The request does not match the route schema' },
  NOT_FOUND: { status: 404, message: 'Route not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The route does not allow this method' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as JSON with Content-Type: application/json' },
  UPGRADE_REQUIRED: { status: 426, message: 'This route is a WebSocket: connect with an Upgrade' },
  // Ingress policies (rate limit, auth, size): refused before the engine sees the request.
  RATE_LIMITED: { status: 429, message: 'Rate limit exceeded, retry later' },
  UNAUTHORIZED: { status: 401, message: 'Credentials are required' },
  FORBIDDEN: { status: 403, message: 'These credentials are not allowed here' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than this route accepts' },
  // WebSocket frames.
  BAD_FRAME: { status: 400, message: 'The frame is not a JSON object of a known type' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; open the stream again on a new connection' },
  STREAM_EXISTS: { status: 409, message: 'A stream is already open under this tag' },
  TOO_MANY_STREAMS: { status: 429, message: 'This socket has too many open streams' },
  NO_SUCH_STREAM: { status: 404, message: 'Nothing is open under this tag' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof CODES;

/** The status a code answers with. */
export function statusOf(code: ErrorCode): number {
  return CODES[code].status;
}
