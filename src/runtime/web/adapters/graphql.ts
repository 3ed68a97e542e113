/**
 * GraphQL adapter (mercurius). The schema and its resolvers are plain data: each mapped
 * field names an engine handler, so the web process builds the resolvers itself and no
 * closure crosses the process boundary. Queries and mutations are `channel.submit` on the
 * request port; subscriptions are `channel.submitStreaming` on the stream port, carried to
 * the client over WebSocket (graphql-transport-ws, or the legacy graphql-ws protocol).
 * A field's arguments become the engine request's `body`, as for every other protocol.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { buildSchema } from 'graphql';
import mercurius, { type IResolvers, type MercuriusContext } from 'mercurius';
import type { WebSocket } from 'ws';
import type { IPCChannel, SubmitOptions } from '../../../channel/channel.js';
import { toWireError } from '../../../errors/index.js';
import type { ForwardRoute, GraphQLSpec } from '../../../contract/web-spec.js';
import { engineRequest, traceparentOf } from './ingress.js';

/** What the subscription context adds, so a subscription's engine request has its upgrade request. */
interface SocketContext {
  appinfraRequest?: FastifyRequest;
}

type Context = MercuriusContext & SocketContext;

/** Registers the GraphQL endpoint of a `graphql` forward route (one per server: mercurius owns `app.graphql`). */
export async function registerGraphQL(app: FastifyInstance, route: ForwardRoute, channel: IPCChannel, defaultTimeout: number): Promise<void> {
  const spec = route.graphql as GraphQLSpec;
  const timeout = route.timeout ?? defaultTimeout;
  // Root types by role, whatever the schema names them (`schema { subscription: Feed }`).
  const parsed = buildSchema(spec.schema);
  const subscriptionType = parsed.getSubscriptionType()?.name;
  const rootTypes = new Set([parsed.getQueryType()?.name, parsed.getMutationType()?.name]);
  const resolvers: Record<string, Record<string, unknown>> = {};
  let subscriptions = false;
  for (const [type, fields] of Object.entries(spec.resolvers)) {
    const out: Record<string, unknown> = (resolvers[type] = {});
    for (const [field, handler] of Object.entries(fields)) {
      if (type === subscriptionType) {
        subscriptions = true;
        out[field] = subscriptionResolver(channel, handler, timeout, route.window);
      } else {
        out[field] = fieldResolver(channel, handler, timeout, rootTypes.has(type));
      }
    }
  }
  await app.register(mercurius, {
    schema: spec.schema,
    resolvers: resolvers as IResolvers,
    path: route.path,
    graphiql: spec.graphiql ?? false,
    subscription: subscriptions
      ? { context: (_socket: WebSocket, request: FastifyRequest): SocketContext => ({ appinfraRequest: request }) }
      : false,
  });
}

function submitOptions(handler: string, timeout: number, req: FastifyRequest | undefined): SubmitOptions {
  const options: SubmitOptions = { route: handler, timeout };
  const tp = req && traceparentOf(req);
  if (tp !== undefined) options.traceparent = tp;
  return options;
}

/** A query, mutation or object field: one request, one reply. */
function fieldResolver(channel: IPCChannel, handler: string, timeout: number, root: boolean) {
  return async (parent: unknown, args: Record<string, unknown>, ctx: Context): Promise<unknown> => {
    const req = ctx.reply?.request ?? ctx.appinfraRequest;
    const request: Record<string, unknown> = req
      ? { ...engineRequest(channel, req, args) }
      : { id: channel.nextId(), method: 'POST', path: '', params: {}, query: {}, body: args };
    // A nested field's engine handler needs the object it belongs to.
    if (!root) request.parent = parent;
    const options = submitOptions(handler, timeout, req);
    // The HTTP client leaving cancels the engine's work, as on a forward route.
    const res = ctx.reply?.raw;
    const abort = new AbortController();
    const onClose = (): void => {
      if (res && !res.writableFinished) abort.abort();
    };
    res?.once('close', onClose);
    options.signal = abort.signal;
    try {
      return await channel.submit(request, options);
    } catch (err) {
      throw graphqlError(err);
    } finally {
      res?.off('close', onClose);
    }
  };
}

/**
 * A subscription field: an engine stream. mercurius writes one event at a time and waits
 * for each write to complete before it pulls the next, so credit flows back to the engine
 * at the client's pace; `return()` (client completes or leaves) cancels the engine's work.
 */
function subscriptionResolver(channel: IPCChannel, handler: string, timeout: number, window: number | undefined) {
  return {
    subscribe: (_root: unknown, args: Record<string, unknown>, ctx: Context): AsyncIterableIterator<unknown> => {
      const req = ctx.appinfraRequest;
      const request = req ? engineRequest(channel, req, args) : { id: channel.nextId(), method: 'GET', path: '', params: {}, query: {}, body: args };
      const options = submitOptions(handler, timeout, req);
      if (window !== undefined) options.window = window;
      const stream = channel.submitStreaming(request, options);
      const it: AsyncIterableIterator<unknown> = {
        next: async () => {
          try {
            return await stream.next();
          } catch (err) {
            throw graphqlError(err);
          }
        },
        return: () => stream.return?.() ?? Promise.resolve({ value: undefined, done: true }),
        [Symbol.asyncIterator]: () => it,
      };
      return it;
    },
    // The chunk is the field's value as is.
    resolve: (chunk: unknown) => chunk,
  };
}

/** Engine errors keep their deterministic status and code; a 5xx never shows its message. */
function graphqlError(err: unknown): Error {
  const wire = toWireError(err);
  return new mercurius.ErrorWithProps(wire.message, { code: wire.code, statusCode: wire.status }, wire.status);
}
