import { z } from 'zod';
import { LOG_LEVELS } from '../../contract/log-levels.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, authSchema, maxPayloadBytes, rateLimitSchema } from './ingress.js';

const seconds = (what: string) => z.number({ error: `a number of seconds (${what})` }).positive({ error: `a positive number of seconds (${what})` });
const posInt = (what: string) => z.number({ error: `a positive integer (${what})` }).int({ error: `a positive integer (${what})` }).positive({ error: `a positive integer (${what})` });

export const uvicornSchema = z.strictObject({
  workers: posInt('number of web processes').default(1),
  timeoutKeepAlive: z.number({ error: 'a number of seconds >= 0' }).min(0, { error: 'a number of seconds >= 0' }).default(5),
  limitConcurrency: posInt('max concurrent requests per web process, or null').nullable().default(null),
  limitMaxRequests: posInt('requests served before a web process is recycled, or null').nullable().default(null),
  backlog: posInt('listen backlog').default(2048),
  logLevel: z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }).default('warning'),
  accessLog: z.boolean({ error: 'true or false' }).default(false),
  sslKeyfile: z.string({ error: 'a path to a PEM key file, or null' }).min(1).nullable().default(null),
  sslCertfile: z.string({ error: 'a path to a PEM certificate file, or null' }).min(1).nullable().default(null),
  http2: z.boolean({ error: 'true or false (HTTP/2: h2 over TLS with HTTP/1.1 fallback, or h2c without TLS)' }).default(false),
}, { error: 'a mapping of uvicorn settings' });

export const CODECS = ['json', 'msgpack', 'v8'] as const;

export const ipcSchema = z.strictObject({
  pollInterval: seconds('kept for compatibility; the transport is event driven').default(0.01),
  queueTimeout: seconds('default Queue.get() timeout').default(0.01),
  maxPending: posInt('requests waiting for the engine before admission is refused').default(100),
  responseTimeout: seconds('alias of api.responseTimeout').default(60),
  enableHealthReporting: z.boolean({ error: 'true or false' }).default(true),
  codec: z.enum(CODECS, { error: `one of ${CODECS.join(', ')}` }).default('json'),
  /** Largest frame either end of the pipe accepts (seed 000's execution_ipc.max_payload_bytes). */
  maxPayloadBytes: maxPayloadBytes.default(64 * 1024 * 1024),
});

const urlPath = (what: string) => z.string({ error: `a URL path starting with / (${what})` }).regex(/^\/[^\s?#]*$/, { error: `a URL path starting with / (${what})` });

/** `GET /metrics` in the Prometheus text format, covering every process. Off by default: it shows internals. */
export const metricsSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(false),
  path: urlPath('where the Prometheus text is served').default('/metrics'),
}, { error: 'a mapping: { enabled, path }' });

/** The live status page: off unless enabled; `token` (if set) must be given as ?token= or a Bearer header. */
export const statusPageSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(false),
  path: urlPath('where the status page is served').default('/_status'),
  token: z.string({ error: 'a string of at least 16 characters, or null' }).min(16, { error: 'a string of at least 16 characters, or null' }).nullable().default(null),
}, { error: 'a mapping: { enabled, path, token }' });

/** Tracing: the module a web process imports before anything else, to register an OpenTelemetry SDK there. */
export const tracingSchema = z.strictObject({
  setup: z.string({ error: 'a module URL or path, or null' }).min(1).nullable().default(null),
}, { error: 'a mapping: { setup }' });

export const apiSchema = z.strictObject({
  host: z.string({ error: 'a host name or IP address' }).min(1, { error: 'a host name or IP address' }).default('127.0.0.1'),
  port: z.number({ error: 'a port number 0..65535' }).int({ error: 'a port number 0..65535' }).min(0, { error: 'a port number 0..65535' }).max(65535, { error: 'a port number 0..65535' }).default(8000),
  title: z.string({ error: 'a string' }).default('API Server'),
  description: z.string({ error: 'a string' }).default(''),
  version: z.string({ error: 'a string' }).default('0.1.0'),
  responseTimeout: seconds('deadline for the engine to answer an HTTP request').default(60),
  logFile: z.string({ error: 'a file path, or null' }).min(1).nullable().default(null),
  autoRestart: z.boolean({ error: 'true or false' }).default(true),
  restartDelay: z.number({ error: 'a number of seconds >= 0' }).min(0, { error: 'a number of seconds >= 0' }).default(1.0),
  maxRestarts: z.number({ error: 'an integer >= 0 (0 = unlimited)' }).int({ error: 'an integer >= 0 (0 = unlimited)' }).min(0, { error: 'an integer >= 0 (0 = unlimited)' }).default(5),
  uvicorn: uvicornSchema.default(() => uvicornSchema.parse({})),
  // Ingress policies (config/ingress.ts).
  rateLimit: rateLimitSchema.nullable().default(null),
  auth: authSchema.nullable().default(null),
  maxPayloadBytes: maxPayloadBytes.default(DEFAULT_MAX_PAYLOAD_BYTES),
  metrics: metricsSchema.default(() => metricsSchema.parse({})),
  statusPage: statusPageSchema.default(() => statusPageSchema.parse({})),
  tracing: tracingSchema.default(() => tracingSchema.parse({})),
});

export type UvicornConfigData = z.output<typeof uvicornSchema>;
export type IPCConfigData = z.output<typeof ipcSchema>;
export type ApiConfigData = Omit<z.output<typeof apiSchema>, 'uvicorn'>;

export type { RateRuleData } from './ingress.js';
