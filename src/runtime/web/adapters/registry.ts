import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../../channel/channel.js';
import { ConfigError } from '../../../errors/index.js';
import { PROTOCOLS, REPLY_MODES, isReplyMode, type ReplyMode } from '../../../contract/protocols.js';
import type { ForwardRoute } from '../../../contract/web-spec.js';
import { registerForward } from './forward.js';
import { registerKeyedStreamRoute } from './kv-stream.js';
import { WEBSOCKET_DIALECT, installWebSocket, registerSocketRoute } from './websocket.js';

type Register = (app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number) => void | Promise<void>;

/**
 * The edge of the web process: one adapter per reply mode, all over the same channel.
 * What a mode is (socket or not, ports, methods) is the protocol table's
 * (contract/protocols.ts); this maps each row to the code that serves it.
 */
const ADAPTERS: Record<ReplyMode, Register> = {
  json: registerForward,
  sse: registerForward,
  websocket: (app, route, channel, timeout) => registerSocketRoute(app, route, channel, timeout, WEBSOCKET_DIALECT),
  kv_stream: registerKeyedStreamRoute,
  // Subscriptions travel over WebSocket; mercurius reuses the plugin when it is there.
  // Imported on first use: mercurius and graphql take ~0.2 s to load, which every web
  // process start (and restart) would pay without a GraphQL route.
  graphql: async (...args) => (await import('./graphql.js')).registerGraphQL(...args),
};

/** Registers every forward route through its protocol's adapter. */
export async function registerEndpoints(app: FastifyInstance, routes: readonly ForwardRoute[], channel: IPCChannel, defaultTimeout: number): Promise<void> {
  for (const r of routes) {
    if (!isReplyMode(r.reply)) throw new ConfigError(`Route ${r.path}: unknown reply mode ${JSON.stringify(r.reply)}; use one of ${REPLY_MODES.join(', ')}`);
  }
  // The WebSocket plugin must be in place before the first socket route is declared.
  if (routes.some((r) => PROTOCOLS[r.reply].socket)) await installWebSocket(app);
  for (const route of routes) await ADAPTERS[route.reply](app, route, channel, defaultTimeout);
}
