import type { FastifyReply, FastifyRequest, RouteGenericInterface, RouteShorthandOptions } from 'fastify';
import { createRequire } from 'node:module';
import { BuildError } from '../../errors/index.js';
import { FORWARD_REPLY_MODES, PROTOCOLS, type ReplyMode } from '../../contract/protocols.js';
import type { ForwardRoute, GraphQLResolverMap, HttpMethod, RouteSchema } from '../../contract/web-spec.js';
import type { ExceptionHandlerSpec, MiddlewareSpec, RouteHandler, RouterPlugin } from '../../runtime/web/extras.js';
import { normaliseMethods, toFastifyPath } from './paths.js';
import { rateRuleSchema } from '../config/ingress.js';

const requireHere = createRequire(import.meta.url);
import type { ServerBuilder } from './server.js';

export interface RouteOptions extends Omit<RouteShorthandOptions, 'schema'> {
  /** Default `['GET']`. */
  methods?: HttpMethod[] | Lowercase<HttpMethod>[] | string[];
  /** JSON Schema of the 200 response body (FastAPI's `response_model`). */
  responseModel?: unknown;
  schema?: RouteSchema & Record<string, unknown>;
  tags?: string[];
  summary?: string;
  description?: string;
  /** Validate the JSON body exactly as the schema says, converting nothing (default: lax, as FastAPI). */
  strict?: boolean;
  [fastifyOption: string]: unknown;
}

/**
 * What an inline handler without a type annotation sees: params, query, body and headers
 * as loose records, so `req.params.name` reads as in FastAPI. Annotate the request
 * (`FastifyRequest<{ Params: { name: string } }>`) for exact types.
 */
export interface LooseRoute {
  Params: Record<string, any>;
  Querystring: Record<string, any>;
  Body: Record<string, any>;
  Headers: Record<string, any>;
}

/** Options of `withForward`: the forward route's own fields (contract/web-spec.ts), each optional. */
export interface ForwardOptions extends Partial<Pick<ForwardRoute, 'handler' | 'schema' | 'tags' | 'summary' | 'description' | 'status' | 'timeout' | 'window' | 'maxStreams' | 'strict' | 'maxPayloadBytes' | 'auth'>> {
  /** This route's own limit (`{ rate: '5/s', burst?, key? }`), or `false` for none. */
  rateLimit?: { rate: string; burst?: number; key?: string } | false;
  /** Default `['GET']`. */
  methods?: string[];
  /**
   * `json` (default), `sse` (a stream of chunks as Server-Sent Events), `websocket` or
   * `kv_stream` (see `withWebSocket`). GraphQL endpoints come from `withGraphQL`.
   */
  reply?: Exclude<ReplyMode, 'graphql'>;
  /** JSON Schema of the success body (FastAPI's `response_model`). */
  responseModel?: unknown;
}

export interface WebSocketOptions {
  /** Engine handler name; defaults to the route path as written. */
  handler?: string;
  /**
   * Keyed streams (`kv_stream` port): frames carry a `key`; `subscribe` / `unsubscribe`
   * per key. Otherwise each incoming frame is a request on the `stream` port.
   */
  keyed?: boolean;
  /** Seconds: the longest gap between two chunks of one stream. */
  timeout?: number;
  /** Chunks the engine may have in flight per stream before it waits for the client (default 32). */
  window?: number;
  /** Streams one socket may have open at once (default 64). */
  maxStreams?: number;
  tags?: string[];
  summary?: string;
  description?: string;
  /** Checked at the upgrade: this route's own limit, or `false` for none. */
  rateLimit?: ForwardOptions['rateLimit'];
  /** Checked at the upgrade: `false` (no credentials needed) or `{ scopes }`. */
  auth?: ForwardOptions['auth'];
}

export interface GraphQLOptions {
  /** Default `/graphql`. */
  path?: string;
  /** The schema in GraphQL SDL. */
  schema: string;
  /**
   * Per type and field, the engine handler that resolves it:
   * `{ Query: { user: 'getUser' }, Mutation: { addUser: 'addUser' }, Subscription: { ticks: 'ticker' } }`.
   * The field's arguments are the engine request's `body`.
   */
  resolvers: GraphQLResolverMap;
  /** Serve the GraphiQL IDE at `/graphiql` (default false). */
  graphiql?: boolean;
  /** Seconds; for subscriptions, the longest gap between two events. */
  timeout?: number;
  /** Subscriptions: events in flight before the engine waits for the client (default 32). */
  window?: number;
  tags?: string[];
  rateLimit?: ForwardOptions['rateLimit'];
  maxPayloadBytes?: number;
  auth?: ForwardOptions['auth'];
}

export interface RouterOptions {
  prefix?: string;
  tags?: string[];
  /** JSON-serialisable options for a module router. */
  options?: Record<string, unknown>;
}

export interface CorsOptions {
  allowCredentials?: boolean;
  /** Default `['*']`. */
  allowMethods?: string[];
  /** Default `['*']`. */
  allowHeaders?: string[];
}

/** Focused builder for routes, routers, error handlers, middleware and CORS (seed `RouteConfigurer`). */
export class RouteConfigurer {
  /** Set by withStrictValidation(): the default of `strict` for routes that do not say. */
  private strictByDefault = false;

  constructor(private readonly parent: ServerBuilder) {}

  /**
   * Makes `strict: true` the default of every forward and inline route of this server,
   * declared before or after (a route's own `strict: false` still wins). Route modules
   * choose per route with `config: { strict: true }`.
   */
  withStrictValidation(): this {
    this.strictByDefault = true;
    const s = this.parent._state;
    for (const r of s.forwards) r.strict ??= true;
    for (const r of s.inlineRoutes) {
      const config = ((r.options.config as Record<string, unknown> | undefined) ??= {});
      config.strict ??= true;
    }
    return this;
  }

  /**
   * An inline handler (Fastify's `(request, reply)`; its return value is sent as JSON).
   * Runs in the process that serves HTTP, so direct mode only: in subprocess mode move it
   * into a route module (`fromModule`) or forward it to the engine (`withForward`).
   */
  withRoute<RG extends RouteGenericInterface = LooseRoute>(
    path: string,
    handler: (request: FastifyRequest<RG>, reply: FastifyReply) => unknown,
    options: RouteOptions = {},
  ): this {
    if (typeof handler !== 'function') {
      throw new BuildError(`withRoute("${path}"): handler must be a function; to send the request to the engine use withForward("${path}", { handler: "name" })`, 'APPINFRA_ERR_ROUTE');
    }
    const { methods, responseModel, tags, summary, description, schema, strict, ...rest } = options;
    const fullSchema: Record<string, unknown> = { ...(schema ?? {}) };
    if (responseModel !== undefined) fullSchema.response = { 200: responseModel, ...((schema?.response as object) ?? {}) };
    if (tags) fullSchema.tags = tags;
    if (summary) fullSchema.summary = summary;
    if (description) fullSchema.description = description;
    const strictness = strict ?? (this.strictByDefault ? true : undefined);
    const config = strictness === undefined ? rest.config : { ...((rest.config as object | undefined) ?? {}), strict: strictness };
    this.parent._state.inlineRoutes.push({
      path: toFastifyPath(path),
      methods: normaliseMethods(methods, `withRoute("${path}")`),
      handler: handler as RouteHandler,
      options: { ...rest, ...(config === undefined ? {} : { config }), schema: fullSchema },
    });
    return this;
  }

  /**
   * A route with no user code in the web process: the request goes to the engine handler
   * named `handler` (default: the path) and its answer comes back as JSON or SSE.
   */
  withForward(path: string, options: ForwardOptions = {}): this {
    const where = `withForward("${path}")`;
    const reply = options.reply ?? 'json';
    const modes: readonly string[] = FORWARD_REPLY_MODES;
    if (!modes.includes(reply)) {
      const hint = (reply as string) === 'graphql' ? '; declare GraphQL endpoints with withGraphQL({ schema, resolvers })' : '';
      throw new BuildError(`${where}: reply must be one of ${modes.map((m) => `"${m}"`).join(', ')}, got ${JSON.stringify(reply)}${hint}`, 'APPINFRA_ERR_ROUTE');
    }
    const socket = PROTOCOLS[reply].socket;
    if (socket && options.methods && normaliseMethods(options.methods, where).some((m) => m !== 'GET')) {
      throw new BuildError(`${where}: a ${reply} route is a WebSocket upgrade, which is a GET; remove methods`, 'APPINFRA_ERR_ROUTE');
    }
    checkPositiveInt(where, 'window', options.window);
    checkPositiveInt(where, 'maxStreams', options.maxStreams);
    if (options.status !== undefined && !(Number.isInteger(options.status) && options.status >= 200 && options.status < 300)) {
      throw new BuildError(`${where}: status must be a 2xx integer, got ${JSON.stringify(options.status)}`, 'APPINFRA_ERR_ROUTE');
    }
    if (options.timeout !== undefined && !(typeof options.timeout === 'number' && options.timeout > 0)) {
      throw new BuildError(`${where}: timeout must be a positive number of seconds, got ${JSON.stringify(options.timeout)}`, 'APPINFRA_ERR_ROUTE');
    }
    const schema: RouteSchema = { ...(options.schema ?? {}) };
    if (options.responseModel !== undefined) schema.response = { [options.status ?? 200]: options.responseModel, ...(schema.response ?? {}) };
    const route: ForwardRoute = {
      path: toFastifyPath(path),
      methods: normaliseMethods(options.methods ?? [...PROTOCOLS[reply].defaultMethods], where),
      handler: options.handler ?? path,
      reply,
    };
    if (Object.keys(schema).length > 0) route.schema = schema;
    if (options.tags) route.tags = options.tags;
    if (options.summary) route.summary = options.summary;
    if (options.description) route.description = options.description;
    if (options.status) route.status = options.status;
    if (options.timeout) route.timeout = options.timeout;
    if (options.window) route.window = options.window;
    if (options.maxStreams) route.maxStreams = options.maxStreams;
    applyRoutePolicy(route, options, where);
    if (options.strict !== undefined && typeof options.strict !== 'boolean') throw new BuildError(`${where}: strict must be true or false, got ${JSON.stringify(options.strict)}`, 'APPINFRA_ERR_ROUTE');
    const strict = options.strict ?? (this.strictByDefault ? true : undefined);
    if (strict !== undefined) route.strict = strict;
    this.parent._state.forwards.push(route);
    return this;
  }

  /**
   * A WebSocket route with no user code in the web process: each incoming JSON frame
   * starts a stream to the engine handler `handler` (the same handler an SSE route can
   * use) and its chunks come back as frames; closing the socket cancels the engine's
   * work. With `keyed: true` one socket carries many keyed streams (`kv_stream` port).
   * Frame protocol: docs/protocols.md.
   */
  withWebSocket(path: string, options: WebSocketOptions = {}): this {
    const { keyed, ...rest } = options;
    return this.withForward(path, { ...rest, reply: keyed ? 'kv_stream' : 'websocket' });
  }

  /**
   * A GraphQL endpoint (mercurius) whose fields are resolved by engine handlers through
   * the same channel: queries and mutations as requests, subscriptions as streams over
   * WebSocket. Plain data, so it works in subprocess mode. One per server.
   */
  withGraphQL(options: GraphQLOptions): this {
    const path = options?.path ?? '/graphql';
    const where = `withGraphQL("${path}")`;
    if (this.parent._state.forwards.some((r) => r.reply === 'graphql')) throw new BuildError(`${where}: a server has one GraphQL endpoint; merge the schemas`, 'APPINFRA_ERR_ROUTE');
    if (typeof options?.schema !== 'string' || options.schema.trim() === '') throw new BuildError(`${where}: schema must be a GraphQL SDL string`, 'APPINFRA_ERR_ROUTE');
    checkResolverMap(where, options.schema, options.resolvers);
    if (options.timeout !== undefined && !(typeof options.timeout === 'number' && options.timeout > 0)) {
      throw new BuildError(`${where}: timeout must be a positive number of seconds, got ${JSON.stringify(options.timeout)}`, 'APPINFRA_ERR_ROUTE');
    }
    checkPositiveInt(where, 'window', options.window);
    const route: ForwardRoute = {
      path: toFastifyPath(path),
      methods: [...PROTOCOLS.graphql.defaultMethods],
      handler: path,
      reply: 'graphql',
      graphql: { schema: options.schema, resolvers: options.resolvers, graphiql: options.graphiql ?? false },
    };
    if (options.tags) route.tags = options.tags;
    if (options.timeout) route.timeout = options.timeout;
    if (options.window) route.window = options.window;
    applyRoutePolicy(route, options, where);
    this.parent._state.forwards.push(route);
    return this;
  }

  /**
   * A route module: a file the web process imports whose default export is a Fastify
   * plugin `(app, { ipc }) => ...`; its handlers reach the engine through `ipc`
   * (or `request.ipc`). Works in both modes.
   */
  fromModule(url: string | URL, options: RouterOptions = {}): this {
    const href = url instanceof URL ? url.href : url;
    if (typeof href !== 'string' || href.length === 0) throw new BuildError('fromModule(url): url must be a module URL or path', 'APPINFRA_ERR_ROUTE');
    const entry: { url: string; prefix?: string; tags?: string[]; options?: Record<string, unknown> } = { url: href };
    if (options.prefix) entry.prefix = options.prefix;
    if (options.tags) entry.tags = options.tags;
    if (options.options) entry.options = options.options;
    this.parent._state.modules.push(entry);
    return this;
  }

  /**
   * A Fastify plugin as a router (FastAPI's `include_router`), mounted under `prefix`;
   * `tags` are added to each of its routes. A module URL works in both modes.
   */
  withRouter(router: RouterPlugin | string | URL, options: RouterOptions = {}): this {
    if (typeof router === 'string' || router instanceof URL) return this.fromModule(router, options);
    if (typeof router !== 'function') throw new BuildError('withRouter(router): router must be a Fastify plugin function or a module URL');
    const entry: { plugin: RouterPlugin; prefix: string; tags?: string[] } = { plugin: router, prefix: options.prefix ?? '' };
    if (options.tags) entry.tags = options.tags;
    this.parent._state.routers.push(entry);
    return this;
  }

  /** Maps errors of `errorClass` (and its subclasses) to a response; the first match wins. */
  withExceptionHandler<E extends Error>(errorClass: new (...args: any[]) => E, handler: ExceptionHandlerSpec['handler']): this {
    if (typeof errorClass !== 'function' || typeof handler !== 'function') {
      throw new BuildError('withExceptionHandler(ErrorClass, handler): both must be functions');
    }
    this.parent._state.exceptionHandlers.push({ errorClass, handler });
    return this;
  }

  /**
   * Fastify-native middleware. `withMiddleware(plugin, options)` registers a Fastify
   * plugin at the root (for example `@fastify/helmet`); `withMiddleware('onRequest', fn)`
   * adds a hook for that lifecycle stage.
   */
  withMiddleware(pluginOrHook: RouterPlugin | Extract<MiddlewareSpec, { kind: 'hook' }>['hook'], optionsOrFn: Record<string, unknown> | ((...args: any[]) => unknown) = {}): this {
    if (typeof pluginOrHook === 'string') {
      if (typeof optionsOrFn !== 'function') throw new BuildError(`withMiddleware("${pluginOrHook}", fn): fn must be a function`);
      const hooks = ['onRequest', 'preParsing', 'preValidation', 'preHandler', 'onSend', 'onResponse'];
      if (!hooks.includes(pluginOrHook)) throw new BuildError(`withMiddleware: unknown hook "${pluginOrHook}"; use one of ${hooks.join(', ')}`);
      this.parent._state.middleware.push({ kind: 'hook', hook: pluginOrHook, fn: optionsOrFn });
      return this;
    }
    if (typeof pluginOrHook !== 'function') throw new BuildError('withMiddleware(plugin, options): plugin must be a Fastify plugin function');
    this.parent._state.middleware.push({ kind: 'plugin', plugin: pluginOrHook, options: (optionsOrFn as Record<string, unknown>) ?? {} });
    return this;
  }

  /** CORS through @fastify/cors, with the seed's defaults (`['*']` methods and headers). */
  withCors(origins: string[], options: CorsOptions = {}): this {
    if (!Array.isArray(origins) || origins.length === 0 || origins.some((o) => typeof o !== 'string')) {
      throw new BuildError('withCors(origins): origins must be a non-empty list of origin strings, e.g. ["http://localhost:3000"]');
    }
    if (options.allowCredentials && origins.includes('*')) {
      throw new BuildError('withCors: allowCredentials cannot be combined with origin "*"; list the origins explicitly');
    }
    this.parent._state.cors = {
      origins,
      allowCredentials: options.allowCredentials ?? false,
      allowMethods: options.allowMethods ?? ['*'],
      allowHeaders: options.allowHeaders ?? ['*'],
    };
    return this;
  }

  done(): ServerBuilder {
    return this.parent;
  }
}

/** A route's own rate limit, body limit and auth, checked as the config file checks them. */
function applyRoutePolicy(route: ForwardRoute, options: Pick<ForwardOptions, 'rateLimit' | 'maxPayloadBytes' | 'auth'>, where: string): void {
  if (options.rateLimit !== undefined) {
    if (options.rateLimit === false) route.rateLimit = false;
    else {
      const r = rateRuleSchema.safeParse(options.rateLimit);
      if (!r.success) throw new BuildError(`${where}: rateLimit: ${r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; ')}`, 'APPINFRA_ERR_ROUTE');
      route.rateLimit = r.data;
    }
  }
  checkPositiveInt(where, 'maxPayloadBytes', options.maxPayloadBytes);
  if (options.maxPayloadBytes !== undefined) route.maxPayloadBytes = options.maxPayloadBytes;
  if (options.auth !== undefined) {
    const a = options.auth;
    if (a !== false && !(a && Array.isArray(a.scopes) && a.scopes.every((x) => typeof x === 'string'))) {
      throw new BuildError(`${where}: auth must be false (no credentials needed) or { scopes: [...] }, got ${JSON.stringify(a)}`, 'APPINFRA_ERR_ROUTE');
    }
    route.auth = a === false ? false : { scopes: [...a.scopes] };
  }
}

function checkPositiveInt(where: string, key: string, value: unknown): void {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) > 0)) {
    throw new BuildError(`${where}: ${key} must be a positive integer, got ${JSON.stringify(value)}`, 'APPINFRA_ERR_ROUTE');
  }
}

/** The SDL must parse and every mapped field must exist, so a typo fails at build(), not at the first query. */
export function checkResolverMap(where: string, sdl: string, resolvers: unknown): void {
  // Loaded here, not at the top: only a server with a GraphQL endpoint pays for graphql (~0.1 s).
  const { buildSchema, GraphQLObjectType } = requireHere('graphql') as typeof import('graphql');
  let schema;
  try {
    schema = buildSchema(sdl);
  } catch (err) {
    throw new BuildError(`${where}: schema is not valid GraphQL SDL: ${(err as Error).message}`, 'APPINFRA_ERR_ROUTE');
  }
  if (!resolvers || typeof resolvers !== 'object' || Array.isArray(resolvers)) {
    throw new BuildError(`${where}: resolvers must map types to { field: 'engineHandlerName' }, e.g. { Query: { hello: 'hello' } }`, 'APPINFRA_ERR_ROUTE');
  }
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) throw new BuildError(`${where}: resolvers.${typeName}: the schema has no object type "${typeName}"`, 'APPINFRA_ERR_ROUTE');
    if (!fields || typeof fields !== 'object' || Array.isArray(fields)) throw new BuildError(`${where}: resolvers.${typeName} must map fields to engine handler names`, 'APPINFRA_ERR_ROUTE');
    const known = type.getFields();
    for (const [field, handler] of Object.entries(fields as Record<string, unknown>)) {
      if (!known[field]) throw new BuildError(`${where}: resolvers.${typeName}.${field}: "${typeName}" has no field "${field}"; it has ${Object.keys(known).join(', ')}`, 'APPINFRA_ERR_ROUTE');
      if (typeof handler !== 'string' || handler === '') {
        throw new BuildError(`${where}: resolvers.${typeName}.${field} must be an engine handler name (a string); functions cannot reach the web process`, 'APPINFRA_ERR_ROUTE');
      }
    }
  }
}
