import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { BuildError } from '../errors.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * How a forward route answers: one JSON body, a Server-Sent Events stream of chunks, a
 * WebSocket (each incoming frame starts a stream on the `stream` port), a keyed
 * WebSocket (many logical streams on the `kv_stream` port, one per key), or a GraphQL
 * endpoint whose fields map to engine handlers. Every mode reaches the engine through
 * the same channel; only the adapter at the edge differs (docs/protocols.md).
 */
export type ReplyMode = 'json' | 'sse' | 'websocket' | 'kv_stream' | 'graphql';

export const REPLY_MODES: readonly ReplyMode[] = ['json', 'sse', 'websocket', 'kv_stream', 'graphql'];

/** Root operation types of a GraphQL schema; other object types may map fields too. */
export type GraphQLResolverMap = Record<string, Record<string, string>>;

/**
 * A GraphQL endpoint as plain data: the SDL and, per type and field, the name of the
 * engine handler that resolves it. Resolver arguments become the engine request's body.
 */
export interface GraphQLSpec {
  /** Schema in GraphQL SDL. */
  schema: string;
  /** `{ Query: { field: 'engineHandler' }, Mutation: {...}, Subscription: {...} }`. */
  resolvers: GraphQLResolverMap;
  /** Serve the GraphiQL IDE at `/graphiql` (default false). */
  graphiql?: boolean;
}

/** JSON Schemas of a route's parts, as Fastify and OpenAPI take them. */
export interface RouteSchema {
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
  headers?: unknown;
  response?: Record<string | number, unknown>;
}

/**
 * A route that carries no user code: it forwards the request to an engine handler in
 * the main process. Plain data, so it crosses the process boundary as is.
 */
export interface ForwardRoute {
  path: string;
  methods: HttpMethod[];
  /** Engine handler name; defaults to the route path. */
  handler: string;
  reply: ReplyMode;
  schema?: RouteSchema;
  tags?: string[];
  summary?: string;
  description?: string;
  /** Success status (default 200). */
  status?: number;
  /** Seconds; overrides the server's response timeout for this route. For streams: the longest gap between chunks. */
  timeout?: number;
  /** Streams: chunks the engine may have in flight before it waits for the client (default 32). */
  window?: number;
  /** WebSocket routes: streams one socket may have open at once (default 64). */
  maxStreams?: number;
  /** GraphQL routes: the schema and its field -> engine handler map. */
  graphql?: GraphQLSpec;
  /**
   * Validate the JSON body exactly as the schema says, converting nothing. By default
   * (lax, as FastAPI) a numeric string becomes a number and "true"/"false" a boolean.
   */
  strict?: boolean;
}

/** A module the web process imports; its default export is a Fastify plugin. */
export interface RouteModule {
  url: string;
  prefix?: string;
  tags?: string[];
  /** JSON-serialisable options handed to the plugin. */
  options?: Record<string, unknown>;
}

export type RouteHandler = (request: FastifyRequest<any>, reply: FastifyReply) => unknown;

/** Inline routes, routers and hooks: closures, so direct mode only. */
export interface InlineRoute {
  path: string;
  methods: HttpMethod[];
  handler: RouteHandler;
  options: RouteShorthandOptions & { tags?: string[]; responseModel?: unknown; [key: string]: unknown };
}

export type RouterPlugin = FastifyPluginAsync<any> | FastifyPluginCallback<any>;

export interface InlineRouter {
  plugin: RouterPlugin;
  prefix: string;
  tags?: string[];
}

export interface ExceptionHandlerSpec {
  errorClass: new (...args: any[]) => Error;
  handler: (error: any, request: FastifyRequest, reply: FastifyReply) => unknown;
}

/**
 * Fastify-native middleware: a plugin (registered at the root, unencapsulated) or a
 * hook function for one lifecycle stage.
 */
export type MiddlewareSpec =
  | { kind: 'plugin'; plugin: RouterPlugin; options: Record<string, unknown> }
  | { kind: 'hook'; hook: 'onRequest' | 'preHandler' | 'onSend' | 'onResponse' | 'preValidation' | 'preParsing'; fn: (...args: any[]) => unknown };

export interface CorsSpec {
  origins: string[];
  allowCredentials: boolean;
  allowMethods: string[];
  allowHeaders: string[];
}

/** FastAPI's `{name}` becomes Fastify's `:name`, so a route copied from the seed works. */
export function toFastifyPath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new BuildError(`Route path ${JSON.stringify(path)} must be a string starting with "/"`);
  }
  const converter = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z]+)\}/.exec(path);
  if (converter) {
    // A `:name` parameter stops at "/", so `{name:path}` would quietly match one segment only.
    const hint = converter[2] === 'path' ? `end the path with "*" instead; the rest of the path is then in params['*']` : 'drop the converter and validate the parameter with the route schema';
    throw new BuildError(`Route path ${JSON.stringify(path)}: the converter "{${converter[1]}:${converter[2]}}" is not supported; ${hint}`);
  }
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

export function normaliseMethods(methods: readonly string[] | string | undefined, where: string): HttpMethod[] {
  const list = methods === undefined ? ['GET'] : Array.isArray(methods) ? methods : [methods as string];
  if (list.length === 0) throw new BuildError(`${where}: methods must name at least one HTTP method`);
  return list.map((m) => {
    const up = String(m).toUpperCase();
    if (!(HTTP_METHODS as readonly string[]).includes(up)) {
      throw new BuildError(`${where}: unknown HTTP method ${JSON.stringify(m)}; use one of ${HTTP_METHODS.join(', ')}`);
    }
    return up as HttpMethod;
  });
}

export type { FastifyInstance };
