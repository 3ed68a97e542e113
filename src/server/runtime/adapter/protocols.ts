import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../../channel/channel.js';
import { ConfigError } from '../../../errors.js';
import { REPLY_MODES, type ForwardRoute, type ReplyMode } from '../../routes.js';
import { registerForward } from './forward.js';
import { registerKeyedStreamRoute } from './kv-stream.js';
import { WEBSOCKET_DIALECT, installWebSocket, registerSocketRoute } from './websocket.js';

type Register = (app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number) => void | Promise<void>;

/**
 * The edge of the web process: one adapter per reply mode, all over the same channel.
 * A new protocol is a new row here; nothing in the channel or the engine changes.
 */
const ADAPTERS: Record<ReplyMode, { register: Register; socket: boolean }> = {
  json: { register: registerForward, socket: false },
  sse: { register: registerForward, socket: false },
  websocket: { register: (app, route, channel, timeout) => registerSocketRoute(app, route, channel, timeout, WEBSOCKET_DIALECT), socket: true },
  kv_stream: { register: registerKeyedStreamRoute, socket: true },
  // Subscriptions travel over WebSocket; mercurius reuses the plugin when it is there.
  // Imported on first use: mercurius and graphql take ~0.2 s to load, which every web
  // process start (and restart) would pay without a GraphQL route.
  graphql: { register: async (...args) => (await import('./graphql.js')).registerGraphQL(...args), socket: false },
};

/** Registers every forward route through its protocol's adapter. */
export async function registerEndpoints(app: FastifyInstance, routes: readonly ForwardRoute[], channel: IPCChannel, defaultTimeout: number): Promise<void> {
  for (const r of routes) {
    if (!Object.hasOwn(ADAPTERS, r.reply)) throw new ConfigError(`Route ${r.path}: unknown reply mode ${JSON.stringify(r.reply)}; use one of ${REPLY_MODES.join(', ')}`);
  }
  // The WebSocket plugin must be in place before the first socket route is declared.
  if (routes.some((r) => ADAPTERS[r.reply].socket)) await installWebSocket(app);
  for (const route of routes) await ADAPTERS[route.reply].register(app, route, channel, defaultTimeout);
}
