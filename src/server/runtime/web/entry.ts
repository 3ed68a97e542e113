/**
 * The framework's web process: builds the Fastify app from a plain-data spec, talks to
 * the engine over the inherited data pipe, and runs no code but the framework's and the
 * route modules the spec names. The engine's module is never imported here.
 */
import { Socket } from 'node:net';
import { codecByName } from '../../../ipc/codecs/index.js';
import { PipeLink } from '../../../ipc/transports/pipe.js';
import { IPCChannel } from '../../../channel/channel.js';
import { buildApp } from '../adapter/app.js';
import { closeGracefully } from '../close.js';
import { webHealth } from '../health.js';
import { DATA_FD, type FromWeb, type SupervisorStatus, type ToWeb } from './protocol.js';

function send(msg: FromWeb): void {
  if (process.connected) process.send?.(msg);
}

async function main(init: Extract<ToWeb, { type: 'init' }>): Promise<void> {
  const { spec } = init;
  let supervisor: SupervisorStatus = init.supervisor;
  const socket = new Socket({ fd: DATA_FD, readable: true, writable: true });
  const link = new PipeLink(socket, { codec: codecByName(spec.ipc.codec), name: init.replyTo });
  const channel = new IPCChannel({ maxPending: spec.ipc.maxPending, responseTimeout: spec.ipc.responseTimeout, replyTo: init.replyTo }, link);
  await channel.start();
  const app = await buildApp({
    spec,
    channel,
    health: () => webHealth({ mode: 'subprocess', channel, codec: spec.ipc.codec, supervisor, reporting: spec.ipc.enableHealthReporting }),
  });
  await app.listen({ host: spec.api.host, port: spec.api.port, backlog: spec.api.uvicorn.backlog });
  const addr = app.server.address();
  send({ type: 'ready', host: spec.api.host, port: typeof addr === 'object' && addr ? addr.port : spec.api.port });

  let stopping = false;
  const stop = async (timeout: number, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await closeGracefully(app, timeout);
    await channel.stop();
    link.close();
    process.exit(code);
  };
  process.on('message', (msg: ToWeb) => {
    if (msg.type === 'drain') void stop(msg.timeout, 0);
    else if (msg.type === 'status') supervisor = msg.supervisor;
  });
  // No orphans: when the main process is gone (even after kill -9) the IPC channel
  // closes and this process leaves, without waiting for slow clients.
  process.on('disconnect', () => void stop(1, 0));
  link.onClose(() => {
    if (!stopping && !process.connected) void stop(1, 0);
  });
  process.on('SIGTERM', () => void stop(5, 0));
}

// Ctrl-C reaches the whole process group; the main process decides how to stop us.
process.on('SIGINT', () => undefined);
process.once('message', (msg: ToWeb) => {
  if (msg.type !== 'init') return;
  main(msg).catch((err: unknown) => {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    console.error(err);
    process.exit(1);
  });
});
