import { Queue } from '../engine/queue.js';
import { PROTOCOLS } from '../contract/protocols.js';
import type { EngineHandler } from '../engine/context.js';
import { ServerBuilder } from './builder/server.js';
import type { AppFile } from './cli/app-file.js';
import type { Server } from '../runtime/main/server.js';
import type { ForwardOptions } from './builder/route.js';
import type { BatchHandler } from '../engine/batcher.js';
import { handlerOptions } from './cli/handler-settings.js';
import { redisOptionsOf, type BackboneOverrides } from './config/backbone-file.js';

/**
 * Builds a Server from a checked app file and its engine handlers. Every endpoint is a
 * forward route, so the web process gets plain data and runs no user code; the
 * handlers are registered on the engine, here in the main process.
 */
export function serverFromFile(file: AppFile, handlers: Map<string, EngineHandler>, backbone: BackboneOverrides = {}): Server {
  const builder = new ServerBuilder(file.name).withConfig(file.api);
  builder.subprocess.withConfig(file.ipc);
  if (file.runtime.platform.execution_ipc.transport === 'redis') builder.subprocess.withRedis(redisOptionsOf(file, backbone)).withRole(backbone.role ?? 'all');
  // The file's transport picks the mode: pipe -> web process(es), memory -> this process.
  if (file.mode === 'subprocess') builder.subprocess.withIpc(new Queue(`${file.name}.requests`), new Queue(`${file.name}.responses`));
  for (const e of file.endpoints) {
    const options: ForwardOptions = { handler: e.handler, reply: e.reply as ForwardOptions['reply'] };
    // A socket route's method is the upgrade's GET; the builder refuses others.
    if (!PROTOCOLS[e.reply].socket) options.methods = e.methods;
    if (e.schema) options.schema = e.schema;
    if (e.summary !== undefined) options.summary = e.summary;
    if (e.description !== undefined) options.description = e.description;
    if (e.tags) options.tags = e.tags;
    if (e.timeout !== undefined) options.timeout = e.timeout;
    if (e.status !== undefined) options.status = e.status;
    if (e.rateLimit !== undefined) options.rateLimit = e.rateLimit;
    if (e.maxPayloadBytes !== undefined) options.maxPayloadBytes = e.maxPayloadBytes;
    if (e.auth !== undefined) options.auth = e.auth;
    builder.routes.withForward(e.path, options);
  }
  const g = file.graphql;
  if (g) builder.routes.withGraphQL({ path: g.path, schema: g.sdl, resolvers: g.resolvers, graphiql: g.graphiql });
  builder.withExecutionIpc({
    bindHost: file.tcp.host,
    bindPort: file.tcp.port,
    ttlSeconds: file.tcp.ttlSeconds,
    nonceCacheSize: file.tcp.nonceCacheSize,
    maxPayloadBytes: file.tcp.maxPayloadBytes,
    secretFile: file.tcp.secretFile,
    allowRemote: file.tcp.allowRemote,
    connectFile: file.tcp.connectFile,
    web: file.tcp.web,
  });
  // Groups' modules are imported by their own processes: here they are only named.
  for (const g of file.groups) {
    builder.withProcessGroup(g.name, { module: g.module, processes: g.processes, handlers: g.handlers.map((name) => (g.retry[name] ? { name, retry: g.retry[name] } : name)) });
  }
  const server = builder.build();
  for (const [name, fn] of handlers) {
    const settings = file.handlerSettings[name];
    const o = settings ? handlerOptions(settings) : undefined;
    // With `batch:`, the export takes (requests, ctxs) and returns one result per request.
    if (o && 'batch' in o) server.engine.handleBatch(name, fn as unknown as BatchHandler, o.batch);
    else server.engine.handle(name, fn, o?.limit);
  }
  return server;
}
