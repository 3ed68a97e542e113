/**
 * The web side as plain data: what a web process is built from, and nothing that could
 * not cross the process boundary (no closure, no class). Direct mode's closures are
 * runtime/web/extras.ts.
 */
import type { ApiConfigData, IPCConfigData, RateRuleData, UvicornConfigData } from '../server/config/schemas.js';
import type { ReplyMode } from './protocols.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

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
  /** This route's own rate limit, or `false`: none (the server's limit does not apply either). */
  rateLimit?: RateRuleData | false;
  /** This route's body limit in bytes (413 above it); default `api.maxPayloadBytes`. */
  maxPayloadBytes?: number;
  /** `false`: answers without credentials; `{ scopes }`: the key must have each of them. */
  auth?: false | { scopes: string[] };
}

/** A module the web process imports; its default export is a Fastify plugin. */
export interface RouteModule {
  url: string;
  prefix?: string;
  tags?: string[];
  /** JSON-serialisable options handed to the plugin. */
  options?: Record<string, unknown>;
}

export interface CorsSpec {
  origins: string[];
  allowCredentials: boolean;
  allowMethods: string[];
  allowHeaders: string[];
}

/** The lifecycle stages a callback can hook (the original's `with_on_startup` ... `with_on_exception`). */
export const CALLBACK_STAGES = ['startup', 'shutdown', 'lifespan', 'request', 'response', 'exception'] as const;
export type CallbackStage = (typeof CALLBACK_STAGES)[number];

/** A lifecycle callback as data: an export of a module the web process imports. */
export interface CallbackRef {
  stage: CallbackStage;
  /** Module URL. */
  module: string;
  /** Export name (default `default`). */
  name: string;
}

/** Everything the web side needs, as plain data: this is what crosses into a web process. */
export interface WebSpec {
  name: string;
  api: ApiConfigData & { uvicorn: UvicornConfigData };
  ipc: IPCConfigData;
  forwards: ForwardRoute[];
  modules: RouteModule[];
  cors: CorsSpec | undefined;
  /** Lifecycle callbacks from modules (both modes); direct mode's closures are in extras. */
  callbacks?: CallbackRef[];
}
