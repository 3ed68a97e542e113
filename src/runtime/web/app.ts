import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import { installLazyDocs } from './docs.js';
import type { IPCChannel } from '../../channel/channel.js';
import { ConfigError } from '../../errors/index.js';
import { pinoLevel } from '../../contract/log-levels.js';
import type { HealthAnswer } from '../../contract/control.js';
import type { WebSpec } from '../../contract/web-spec.js';
import { AJV_OPTIONS } from './ajv-options.js';
import type { InProcessExtras } from './extras.js';
import { installConcurrencyLimit } from './adapters/concurrency.js';
import { installErrorHandling } from './adapters/errors.js';
import { installTextParser } from './adapters/content-types.js';
import { installJsonParser } from './adapters/json-body.js';
import { createValidation } from './adapters/validation.js';
import { installAccessLog } from './adapters/access-log.js';
import { requestLoggers, serverLogger } from './adapters/request-logger.js';
import { enableForceClose, http2Options } from './adapters/http2.js';
import { closeIdleAfterRead } from './adapters/keep-alive.js';
import { registerEndpoints } from './adapters/registry.js';
import { registerModule, withTags } from './adapters/modules.js';
import { installDrainer } from './drain.js';
import { installLifecycle } from './lifecycle.js';
import { installIngressPolicies } from './adapters/policy.js';
import { installWebSocket } from './adapters/websocket.js';
import { PROTOCOLS } from '../../contract/protocols.js';
import { TokenBuckets, type RateLimitStore } from '../../ingress/buckets.js';
import { isTracing } from '../../observability/tracing.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The channel to the engine (seed example 4's `app.state.ipc_channel`). */
    ipc: IPCChannel;
  }
  interface FastifyRequest {
    /** The channel to the engine, for handlers in route modules (seed `Depends(get_ipc_channel)`). */
    ipc: IPCChannel;
  }
}

export type HealthReport = () => HealthAnswer;

export interface BuildAppOptions {
  spec: WebSpec;
  channel: IPCChannel;
  extras?: InProcessExtras;
  health: HealthReport;
  /** A pino destination for the logger (a file in an isolated web process). */
  logStream?: NodeJS.WritableStream;
  /** Where rate-limit buckets live (a web process: the main process's; default: this process's). */
  rateStore?: RateLimitStore;
  /** Installs `/metrics` and `/_status` with their hooks, when either is enabled (loaded lazily by the caller). */
  observability?: (app: FastifyInstance) => Promise<void>;
}

/**
 * Builds the Fastify application from a web spec: the one adapter both modes use, so
 * a route behaves the same in direct and subprocess mode.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { spec, channel, extras } = options;
  const uv = spec.api.uvicorn;
  const log = serverLogger(pinoLevel(uv.logLevel), options.logStream);
  const fastifyOptions: FastifyServerOptions & { https?: { key: Buffer; cert: Buffer } } = {
    // Fastify's own request lines are off; the access log below keeps uvicorn's meaning.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLoggers(log),
    keepAliveTimeout: Math.max(1, Math.round(uv.timeoutKeepAlive * 1000)),
    // Node's defaults would end a slow upload at 300 s; the deadline is the engine's, not the socket's.
    requestTimeout: 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: AJV_OPTIONS,
    bodyLimit: spec.api.maxPayloadBytes,
  };
  if (uv.sslKeyfile && uv.sslCertfile) fastifyOptions.https = { key: readPem(uv.sslKeyfile, 'sslKeyfile'), cert: readPem(uv.sslCertfile, 'sslCertfile') };
  if (uv.http2) Object.assign(fastifyOptions, http2Options(fastifyOptions.https));
  const validation = createValidation();
  fastifyOptions.schemaController = validation.schemaController as FastifyServerOptions['schemaController'];
  const app = Fastify(fastifyOptions as FastifyServerOptions);
  // Before any plugin: an encapsulated instance reads `log` from this one unless it sets its own level.
  (app as { log: FastifyBaseLogger }).log = log;
  if (uv.http2) enableForceClose(app.server);
  else closeIdleAfterRead(app.server);
  // Before any route: strict routes are noted as they are added.
  validation.watchRoutes(app);
  installTextParser(app);
  // A user's plugin or hook that runs once the body is parsed may read `request.body`: it gets the parsed value everywhere.
  if (!(extras?.middleware ?? []).some((m) => m.kind !== 'hook' || (m.hook !== 'onRequest' && m.hook !== 'preParsing'))) installJsonParser(app, channel);

  app.decorate('ipc', channel);
  app.decorateRequest('ipc', { getter: () => channel });
  // One tracker of the responses in flight, for the one shutdown path (drain.ts).
  installDrainer(app);
  // The correlation id of the engine request a request made: the access log and spans carry it.
  app.decorateRequest('appinfraId', '');
  // Spans only when the user registered an SDK (tracing.setup in a web process): no hook otherwise.
  if (isTracing()) (await import('./adapters/tracing.js')).installTracing(app);
  await options.observability?.(app);
  const lifecycle = await installLifecycle(app, channel, spec.callbacks ?? [], extras?.callbacks ?? []);
  installErrorHandling(app, extras?.exceptionHandlers ?? [], lifecycle.onException);
  // uvicorn's timeout_keep_alive 0 closes after each response; Node's 0 would mean "never time out".
  if (uv.timeoutKeepAlive === 0) {
    app.addHook('onRequest', async (req, reply) => {
      // HTTP/2 forbids the header; its streams do not keep a connection per request anyway.
      if (req.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    });
  }
  if (uv.accessLog) installAccessLog(app);
  // Before any route: the policies apply to each route as it is added (/_health included, as exempt).
  await installIngressPolicies(app, spec, options.rateStore ?? new TokenBuckets());
  // WebSocket messages have the body's bound, each socket route its own if it says so (close 1009 above it).
  const forwards = spec.forwards.map((r) => (PROTOCOLS[r.reply].socket ? { ...r, maxPayloadBytes: r.maxPayloadBytes ?? spec.api.maxPayloadBytes } : r));
  const sockets = forwards.filter((r) => PROTOCOLS[r.reply].socket);
  if (sockets.length > 0) await installWebSocket(app, Math.max(spec.api.maxPayloadBytes, ...sockets.map((r) => r.maxPayloadBytes!)));
  if (uv.limitConcurrency) installConcurrencyLimit(app, uv.limitConcurrency, channel.replyTo);

  installLazyDocs(app, { title: spec.api.title, description: spec.api.description, version: spec.api.version });

  if (spec.cors) {
    const c = spec.cors;
    await app.register(cors, {
      origin: c.origins.includes('*') ? '*' : c.origins,
      credentials: c.allowCredentials,
      methods: c.allowMethods.includes('*') ? ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS'] : c.allowMethods,
      ...(c.allowHeaders.includes('*') ? {} : { allowedHeaders: c.allowHeaders }),
    });
  }

  for (const m of extras?.middleware ?? []) {
    if (m.kind === 'hook') app.addHook(m.hook as 'onRequest', m.fn as never);
    else await app.register(skipOverride(m.plugin), m.options);
  }

  app.get('/_health', { schema: { tags: ['health'], summary: 'Health of the server and its link to the engine' } }, async (_req, reply) => {
    const report = options.health();
    return reply.code(report.status).send(report.body);
  });

  await registerEndpoints(app, forwards, channel, spec.api.responseTimeout);
  for (const route of extras?.inlineRoutes ?? []) {
    const { schema, ...rest } = route.options;
    app.route({ ...(rest as object), method: route.methods, url: route.path, schema: schema as object, handler: route.handler });
  }
  for (const router of extras?.routers ?? []) {
    await app.register(withTags(router.plugin, router.tags), { prefix: router.prefix, ipc: channel });
  }
  for (const mod of spec.modules) await registerModule(app, mod, channel);
  (app as unknown as Record<symbol, unknown>)[STARTUP] = lifecycle.start;
  return app;
}

const STARTUP = Symbol('appinfra.startup');

/**
 * Readies the app and runs its startup callbacks (and lifespans' setup): the channel is
 * up, nothing listens yet. The caller adds its own hooks before; a failure is a CallbackError.
 */
export async function startApp(app: FastifyInstance): Promise<void> {
  await app.ready();
  await ((app as unknown as Record<symbol, () => Promise<void>>)[STARTUP] ?? (async () => undefined))();
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`uvicorn.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** A middleware plugin applies to the whole app, not only inside its own encapsulation context. */
function skipOverride<T extends (...args: any[]) => unknown>(plugin: T): T {
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
