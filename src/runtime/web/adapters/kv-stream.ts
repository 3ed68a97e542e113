/**
 * Keyed streams (seed-000 `kv_stream` port): one WebSocket carries many logical streams,
 * one per key. Same session as a plain WebSocket route (websocket.ts), another dialect:
 *
 *   client -> server   {"type":"subscribe","key":"AAPL","data":{...}}   opens the key's engine stream
 *                      {"type":"unsubscribe","key":"AAPL"}               cancels it; answered by end + cancelled
 *   server -> client   {"type":"chunk","key":"AAPL","data":...}          in the engine's order for that key
 *                      {"type":"end","key":"AAPL"}
 *                      {"type":"error","key":"AAPL","error":{...}}       that key only; the others go on
 *
 * The engine request carries `key`, so one handler serves every key (and SSE, where it is absent).
 */
import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../../channel/channel.js';
import { PROTOCOLS } from '../../../contract/protocols.js';
import type { ForwardRoute } from '../../../contract/web-spec.js';
import { registerSocketRoute, type Dialect } from './websocket.js';

export const KV_STREAM_DIALECT: Dialect = { port: PROTOCOLS.kv_stream.ports[0], tag: 'key', open: 'subscribe', close: 'unsubscribe', implicit: false, tagInRequest: true };

export function registerKeyedStreamRoute(app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number): void {
  registerSocketRoute(app, route, channel, defaultTimeout, KV_STREAM_DIALECT);
}
