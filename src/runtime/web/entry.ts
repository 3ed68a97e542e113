/**
 * The framework's web process: builds the Fastify app from a plain-data spec, talks to
 * the engine over the inherited data pipe, and runs no code but the framework's and the
 * route modules the spec names. The engine's module is never imported here.
 *
 * Started by the main process as a `node:cluster` worker, so several of them can share
 * one listening socket; each accepts its own connections.
 */
import { Socket } from 'node:net';
import { codecByName } from '../../ipc/codecs/index.js';
import { PipeLink } from '../../ipc/transports/pipe.js';
import { connectTcpLocal, joinSettings } from '../../ipc/transports/tcp.js';
import { IPCChannel } from '../../channel/channel.js';
import { DATA_FD, type BackboneInit, type FromWeb, type SupervisorStatus, type ToWeb } from '../../contract/control.js';
import { buildApp, startApp } from './app.js';
import { CallbackError } from '../../errors/index.js';
import type { RedisWebLink } from '../../ipc/transports/redis/web-link.js';
import { webHealth } from './health.js';
import { drainerOf } from './drain.js';
import { DEFAULT_STOP_TIMEOUT_S } from '../../process/signals.js';
import { RemoteBuckets } from './remote-buckets.js';
import type { ScrapeClient } from './scrape-client.js';
import { importUrl } from '../../process/import-url.js';
import { codeCache } from './code-cache.js';

/** The web side of the Redis backbone, loaded only when the app runs on it. */
async function backboneLink(init: BackboneInit, codec: string, replyTo: string): Promise<RedisWebLink> {
  const [{ RedisWebLink }, { webLinkOptions }] = await Promise.all([import('../../ipc/transports/redis/web-link.js'), import('../../ipc/transports/redis/options.js')]);
  const link = new RedisWebLink(webLinkOptions(init, codec), replyTo);
  await link.start();
  return link;
}

function send(msg: FromWeb): boolean {
  if (!process.connected || !process.send) return false;
  process.send(msg);
  return true;
}

/** Rate-limit buckets are the main process's: one limit for every worker. */
const buckets = new RemoteBuckets(send);

/** What stops this process; replaced once the app is up. Before that there is nothing to drain. */
let stop = (_timeout: number, code: number): void => process.exit(code);
let supervisor: SupervisorStatus | undefined;
let scrapes: ScrapeClient | undefined;

async function main(init: Extract<ToWeb, { type: 'init' }>): Promise<void> {
  const { spec } = init;
  supervisor = init.supervisor;
  // The user's OpenTelemetry SDK registers itself before anything could start a span.
  if (spec.api.tracing.setup) await import(importUrl(spec.api.tracing.setup));
  // tcp_local when the user chose it (signed frames over loopback TCP), else the inherited pipe.
  // On the Redis backbone the pipe carries no envelopes; it still tells this process when the main one is gone.
  const socket = init.tcp ? undefined : new Socket({ fd: DATA_FD, readable: true, writable: true });
  const link = init.backbone
    ? await backboneLink(init.backbone, spec.ipc.codec, init.replyTo)
    : socket
      ? new PipeLink(socket, { codec: codecByName(spec.ipc.codec), maxFrameBytes: spec.ipc.maxPayloadBytes, name: init.replyTo })
      : await connectTcpLocal(joinSettings(init.tcp!), { type: 'hello', role: 'web', replyTo: init.replyTo } as { type: 'hello' }, init.replyTo);
  const channel = new IPCChannel({ maxPending: spec.ipc.maxPending, responseTimeout: spec.api.responseTimeout, replyTo: link.name }, link);
  await channel.start();
  const app = await buildApp({
    spec,
    channel,
    health: () => webHealth({ mode: 'subprocess', channel, codec: spec.ipc.codec, supervisor: supervisor!, reporting: spec.ipc.enableHealthReporting }),
    rateStore: buckets,
    ...(spec.api.metrics.enabled || spec.api.statusPage.enabled
      ? {
          observability: async (app) => {
            const [obs, { ScrapeClient }] = await Promise.all([import('./observability.js'), import('./scrape-client.js')]);
            const metrics = obs.createWebMetrics(init.replyTo, channel, app);
            const client = new ScrapeClient(send, () => metrics.registry.getMetricsAsJSON());
            scrapes = client;
            app.addHook('onClose', (_app, done) => {
              client.close();
              done();
            });
            obs.installObservability(app, spec, { metrics, gather: client.gather });
          },
        }
      : {}),
  });
  const drainer = drainerOf(app);

  // uvicorn's limit_max_requests: past the limit the main process starts a replacement
  // and then drains this one, so no request is dropped. Counted when the response is done.
  const limit = spec.api.uvicorn.limitMaxRequests;
  if (limit) {
    let served = 0;
    app.addHook('onResponse', (_req, _reply, done) => {
      if (++served % limit === 0) send({ type: 'served', count: served });
      done();
    });
  }

  await startApp(app);
  await app.listen({ host: spec.api.host, port: spec.api.port, backlog: spec.api.uvicorn.backlog });
  const addr = app.server.address();

  let stopping = false;
  stop = (timeout, code) => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      try {
        const until = performance.now() + timeout * 1000;
        await drainer.drain(timeout);
        // What is still out (a response callback's report to the engine) gets the rest of the timeout.
        await channel.whenIdle(until - performance.now());
        await channel.stop();
      } finally {
        // The backbone link removes this process's reply stream and presence key before it goes.
        await ('stop' in link ? link.stop() : link.close());
        process.exit(code);
      }
    })();
  };
  // The engine side of the pipe is gone while the control channel is up: this process
  // cannot serve anything; leave so the supervisor can replace it.
  // (The socket, not link.onClose: the link has one close listener and the channel holds it.)
  const engineGone = (): void => {
    if (!stopping) stop(1, process.connected ? 1 : 0);
  };
  if (socket) socket.once('close', engineGone);
  else link.onClose(engineGone);
  const cache = codeCache();
  send({ type: 'ready', host: spec.api.host, port: typeof addr === 'object' && addr ? addr.port : spec.api.port, ...(cache ? { codeCache: cache.state } : {}) });
  // After `ready`, off the start's path; now the cache also holds what building the app compiled.
  if (cache) setImmediate(() => cache.save());
}

process.on('message', (msg: ToWeb) => {
  if (msg.type === 'init') {
    main(msg).catch((err: unknown) => {
      const callback = err instanceof CallbackError ? { stage: err.stage, name: err.callback } : undefined;
      send({ type: 'fatal', message: err instanceof Error ? err.message : String(err), ...(callback ? { callback } : {}) });
      console.error(err);
      process.exit(1);
    });
  } else if (msg.type === 'drain') {
    stop(msg.timeout, 0);
  } else if (msg.type === 'status') {
    supervisor = msg.supervisor;
  } else if (msg.type === 'rate') {
    buckets.receive(msg);
  } else if (msg.type === 'collect') {
    scrapes?.collect(msg.id);
  } else if (msg.type === 'scraped') {
    scrapes?.scraped(msg.id, msg.metrics);
  }
});
// No orphans: when the main process is gone (even after kill -9) the IPC channel closes
// and this process leaves at once; its engine is gone, so nothing in flight can finish.
// (As a cluster worker, Node itself also exits on an unexpected disconnect.)
process.on('disconnect', () => process.exit(0));
// Someone other than the main process (which sends `drain`) asked this one to leave.
process.on('SIGTERM', () => stop(DEFAULT_STOP_TIMEOUT_S, 0));
// Ctrl-C reaches the whole process group; the main process decides how to stop us.
process.on('SIGINT', () => undefined);
// A message that arrives before a listener exists is lost (a cluster worker reads its
// channel from the start): ask for `init` only now that we listen.
send({ type: 'hello' });
