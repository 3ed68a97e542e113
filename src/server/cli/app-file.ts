/**
 * The `appinfra serve app.yaml` file: endpoints declared as data, the engine module that
 * provides their handlers, seed 000's runtime contract (`runtime.platform.execution_ipc`,
 * `runtime.platform.process_groups`, `runtime.web.interfaces`) and the usual `api:`,
 * `uvicorn:` and `ipc:` sections. Loading only reads and checks the file; importing the
 * engine module is a separate step (`app-engine.ts`), so `routes` never runs user code.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GroupSpec, TcpLocalSpec } from '../../contract/groups.js';
import { z } from 'zod';
import { ConfigError } from '../../errors/index.js';
import { HTTP_METHODS, type HttpMethod, type RouteSchema } from '../../contract/web-spec.js';
import { PROTOCOLS, REPLY_MODES, bindablePorts, type InterfaceKind, type ReplyMode } from '../../contract/protocols.js';
import { ApiConfig } from '../config/api.js';
import type { IPCConfig } from '../config/ipc.js';
import { configFromObject, parseYamlText } from '../config/load.js';
import { collect, invalid, parseWith, problemsOf } from '../config/validate.js';
import { maxPayloadBytes, rateRuleSchema } from '../config/ingress.js';
import { checkResolverMap } from '../builder/route.js';
import type { GraphQLResolverMap } from '../../contract/web-spec.js';
import { handlersSchema, type HandlerSettings } from './handler-settings.js';
import { redisSectionSchema } from '../config/backbone.js';
import { redactUrl } from '../../ipc/transports/redis/options.js';

/** Endpoint kinds a file may declare, and the forward-route reply mode each becomes (the protocol table's `fileKind`). */
export const ENDPOINT_KINDS = Object.fromEntries(REPLY_MODES.flatMap((m) => (PROTOCOLS[m].fileKind ? [[PROTOCOLS[m].fileKind, m]] : []))) as Record<EndpointKind, ReplyMode>;
export type EndpointKind = NonNullable<(typeof PROTOCOLS)[ReplyMode]['fileKind']>;

/** Seed 000 section 4: the port a kind binds, as the summary and the route table show it. */
const portOf = (kind: EndpointKind): string => PROTOCOLS[ENDPOINT_KINDS[kind]].ports.map((p) => (p === 'request' ? 'request/response' : p)).join(', ');

const INTERFACE_KINDS = ['http', 'websocket', 'graphql'] as const satisfies readonly InterfaceKind[];
const PORTS = ['request', 'response', 'stream', 'kv_stream'] as const;

export const TRANSPORTS = ['memory', 'pipe', 'tcp_local', 'redis'] as const;
/** Transports this version can run; the others are part of the contract and validated, but refused at `serve`. */
export const RUNNABLE_TRANSPORTS: readonly string[] = ['memory', 'pipe', 'tcp_local', 'redis'];

const str = (what: string) => z.string({ error: what }).min(1, { error: what });
const posInt = (what: string) => z.number({ error: what }).int({ error: what }).positive({ error: what });
const seconds = (what: string) => z.number({ error: what }).positive({ error: what });
const portNumber = z.number({ error: 'a port number 0..65535' }).int({ error: 'a port number 0..65535' }).min(0, { error: 'a port number 0..65535' }).max(65535, { error: 'a port number 0..65535' });
const jsonSchema = z.record(z.string(), z.unknown(), { error: 'a JSON Schema (a mapping)' });
const method = z
  .string({ error: `an HTTP method (${HTTP_METHODS.join(', ')})` })
  .transform((m) => m.toUpperCase())
  .pipe(z.enum(HTTP_METHODS, { error: `an HTTP method (${HTTP_METHODS.join(', ')})` }));

const endpointSchema = z.strictObject({
  path: z.string({ error: 'a URL path starting with "/"' }).regex(/^\/\S*$/, { error: 'a URL path starting with "/"' }),
  methods: z.array(method, { error: 'a list of HTTP methods, e.g. [POST]' }).min(1, { error: 'at least one HTTP method' }).optional(),
  kind: z.enum(Object.keys(ENDPOINT_KINDS) as [EndpointKind, ...EndpointKind[]], { error: `one of ${Object.keys(ENDPOINT_KINDS).join(', ')}` }).default('http'),
  handler: z.string({ error: 'the name of a function the engine module exports' }).regex(/^[A-Za-z_$][\w$]*$/, { error: 'the name of a function the engine module exports' }),
  schema: z
    .strictObject({ body: jsonSchema.optional(), querystring: jsonSchema.optional(), params: jsonSchema.optional(), headers: jsonSchema.optional(), response: z.record(z.string(), z.unknown()).optional() })
    .optional(),
  summary: z.string({ error: 'a string' }).optional(),
  description: z.string({ error: 'a string' }).optional(),
  tags: z.array(z.string({ error: 'a string' }), { error: 'a list of strings' }).optional(),
  timeout: seconds('a positive number of seconds (deadline of this endpoint)').optional(),
  status: z.number({ error: 'a 2xx status code' }).int({ error: 'a 2xx status code' }).min(200, { error: 'a 2xx status code' }).max(299, { error: 'a 2xx status code' }).optional(),
  // Ingress policies of this endpoint (api.rate_limit, api.auth, api.max_payload_bytes are the server's).
  rate_limit: z.union([z.literal(false), rateRuleSchema], { error: 'false, or a mapping with rate: and optionally burst:, key:' }).optional(),
  max_payload_bytes: maxPayloadBytes.optional(),
  auth: z.union([z.literal(false), z.strictObject({ scopes: z.array(z.string({ error: 'a scope name' }), { error: 'a list of scope names' }) })], { error: 'false (no credentials needed), or a mapping with scopes: [...]' }).optional(),
});

const executionIpcSchema = z.strictObject({
  transport: z.enum(TRANSPORTS, { error: `one of ${TRANSPORTS.join(', ')}` }).default('pipe'),
  bind_host: str('a host name or IP address (tcp_local)').default('127.0.0.1'),
  bind_port: portNumber.default(0),
  auth: z
    .strictObject({
      mode: z.enum(['none', 'hmac'], { error: 'none or hmac' }).default('none'),
      ttl_seconds: seconds('a positive number of seconds').default(30),
      nonce_cache_size: posInt('a positive integer').default(100000),
    })
    .default({ mode: 'none', ttl_seconds: 30, nonce_cache_size: 100000 }),
  max_payload_bytes: posInt('a positive integer number of bytes').default(64 * 1024 * 1024),
  // tcp_local (process groups): a secret read from a file instead of one per run, a non-loopback bind on purpose, a connect file for processes started by hand.
  secret_file: str('a path to a file holding the secret (tcp_local)').optional(),
  allow_remote: z.boolean({ error: 'true or false' }).optional(),
  connect_file: str('a path where the server writes the address and secret for processes started by hand').optional(),
  // redis (the backbone between machines): its URL, password file, secret file and stream settings.
  redis: redisSectionSchema.optional(),
});

const processGroupSchema = z.strictObject({
  name: z.string({ error: 'a group name' }).regex(/^[a-z][a-z0-9_-]*$/, { error: 'a group name (lowercase letters, digits, _ and -)' }),
  stages: z.array(str('a stage name'), { error: 'a list of stage names' }).optional(),
  workers: posInt('a positive integer (processes in this group)').optional(),
  // A group with module + handlers runs in processes of its own (process groups over tcp_local).
  module: str('a path to the module exporting the group\'s handlers, relative to this file').optional(),
  handlers: z
    .array(z.union([z.string().regex(/^[A-Za-z_$][\w$]*$/), z.strictObject({ name: z.string().regex(/^[A-Za-z_$][\w$]*$/), retry: z.number().int().min(0).default(0) })], { error: 'a handler name, or { name, retry }' }), { error: 'a list of handler names' })
    .min(1, { error: 'at least one handler' })
    .optional(),
});

const interfaceSchema = z.strictObject({
  kind: z.enum(INTERFACE_KINDS, { error: `one of ${INTERFACE_KINDS.join(', ')}` }),
  binds: z.array(z.enum(PORTS, { error: `a port: ${PORTS.join(', ')}` }), { error: 'a list of ports' }).min(1, { error: 'at least one port' }),
  // A graphql interface: its SDL file (relative to the app file), path, and field -> engine handler map.
  path: z.string({ error: 'a URL path starting with "/"' }).regex(/^\/\S*$/, { error: 'a URL path starting with "/"' }).optional(),
  schema: str('a path to the GraphQL SDL file, relative to the app file').optional(),
  resolvers: z.record(z.string(), z.record(z.string(), z.string({ error: 'an engine handler name' }), { error: 'a mapping of field: engine handler' }), { error: 'a mapping of type: { field: engine handler }' }).optional(),
  graphiql: z.boolean({ error: 'true or false' }).optional(),
});

const runtimeSchema = z.strictObject({
  platform: z
    .strictObject({
      kv: z.strictObject({ backend: z.enum(['memory'], { error: 'memory' }).default('memory') }).optional(),
      execution_ipc: executionIpcSchema.default(() => executionIpcSchema.parse({})),
      process_groups: z.array(processGroupSchema, { error: 'a list of process groups' }).min(1, { error: 'at least the web group' }).default([{ name: 'web' }]),
    })
    .default(() => ({ execution_ipc: executionIpcSchema.parse({}), process_groups: [{ name: 'web' }] })),
  web: z
    .strictObject({ interfaces: z.array(interfaceSchema, { error: 'a list of interfaces' }).optional() })
    .default({}),
});

const fileSchema = z.strictObject({
  name: z.string({ error: 'a name (letters, digits, . _ -)' }).regex(/^[A-Za-z0-9._-]+$/, { error: 'a name (letters, digits, . _ -)' }).optional(),
  engine: z.strictObject({ module: str('a path to the engine module, relative to this file'), handlers: handlersSchema.optional() }, { error: 'a mapping with module: <path to the engine module>' }),
  endpoints: z.array(endpointSchema, { error: 'a list of endpoints' }).min(1, { error: 'at least one endpoint' }),
  runtime: runtimeSchema.default(() => runtimeSchema.parse({})),
  // Owned and checked by the api/uvicorn/ipc loader.
  api: z.unknown().optional(),
  uvicorn: z.unknown().optional(),
  ipc: z.unknown().optional(),
});

export type EndpointData = z.output<typeof endpointSchema>;
export type RuntimeData = z.output<typeof runtimeSchema>;

export interface Endpoint {
  path: string;
  methods: HttpMethod[];
  kind: EndpointKind;
  reply: ReplyMode;
  handler: string;
  schema?: RouteSchema;
  summary?: string;
  description?: string;
  tags?: string[];
  timeout?: number;
  status?: number;
  rateLimit?: z.output<typeof rateRuleSchema> | false;
  maxPayloadBytes?: number;
  auth?: false | { scopes: string[] };
}

/** The graphql interface of an app file: the SDL read from its file, and which engine handler resolves each field. */
export interface GraphQLInterface {
  path: string;
  sdl: string;
  resolvers: GraphQLResolverMap;
  graphiql: boolean;
}

/** A checked app file. Nothing in it has run: the engine module is only located. */
export interface AppFile {
  /** Absolute path of the YAML file. */
  source: string;
  name: string;
  /** Absolute path of the engine module. */
  engineModule: string;
  /** As written, for messages. */
  engineModuleAsWritten: string;
  endpoints: Endpoint[];
  /** `engine.handlers`: batching and limits per handler name. */
  handlerSettings: Record<string, HandlerSettings>;
  runtime: RuntimeData;
  api: ApiConfig;
  ipc: IPCConfig;
  mode: 'subprocess' | 'direct';
  graphql?: GraphQLInterface;
  /** Contract values accepted but not acted on by this version, said out loud. */
  notes: string[];
  /** Process groups with processes of their own (module + handlers), their modules resolved. */
  groups: GroupSpec[];
  /** The tcp_local settings the groups (and, with transport tcp_local, the web processes) use. */
  tcp: TcpLocalSpec;
}

/** Reads and checks an app file. Every problem is reported at once, each with its key path. */
export function loadAppFile(path: string): AppFile {
  const found = inspectAppFile(readAppFile(path), resolve(path));
  if (!found.file) throw new ConfigError(`${path}: ${invalid(found.problems).message}`, { problems: found.problems });
  return found.file;
}

/** Reads and parses the YAML; a file that cannot be read or parsed leaves nothing else to check. */
export function readAppFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read the app file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseYamlText(text, path);
}

/** Checks a parsed document; `source` is the file it came from (relative paths resolve against its folder). */
export function appFileFromObject(doc: unknown, source: string): AppFile {
  const found = inspectAppFile(doc, source);
  if (!found.file) throw invalid(found.problems);
  return found.file;
}

/** What checking a document found: every problem, and the parts valid by themselves for the checks that come after. */
export interface AppFileInspection {
  /** Set when there is no problem. */
  file?: AppFile;
  problems: string[];
  /** Endpoints valid by themselves, by their index in the file. */
  endpoints: [number, Endpoint][];
  /** The engine module, when `engine.module` names a file that exists. */
  engine?: { path: string; asWritten: string };
  /** The graphql interface, when valid by itself. */
  graphql?: GraphQLInterface;
  /** Handlers served by process groups: their code is in the groups' modules, not the engine module. */
  grouped: Set<string>;
}

/**
 * Checks every section of the document, each on its own, so that no problem hides
 * another: a wrong `uvicorn:` still lets `api:` be checked, and the cross-section rules
 * run on the parts that are valid.
 */
export function inspectAppFile(doc: unknown, source: string): AppFileInspection {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    const problem = `(root): got ${Array.isArray(doc) ? 'a list' : JSON.stringify(doc ?? null)}, expected a mapping with engine:, endpoints: and optionally runtime:, api:, uvicorn:, ipc:`;
    return { problems: [problem], endpoints: [], grouped: new Set() };
  }
  const problems: string[] = [];
  try {
    parseWith(fileSchema, doc, '');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...problemsOf(err).map((line) => withKnownKeys(indexStyle(line))));
  }
  const d = doc as Record<string, unknown>;
  const sectionProblems: string[] = [];
  const loaded = collect(() => configFromObject({ api: d.api, uvicorn: d.uvicorn, ipc: d.ipc }), sectionProblems);

  const name = valid(fileSchema.shape.name, d.name);
  const engineData = valid(fileSchema.shape.engine, d.engine);
  let engine: AppFileInspection['engine'];
  if (engineData) {
    const path = resolve(dirname(source), engineData.module);
    if (existsSync(path) && statSync(path).isFile()) engine = { path, asWritten: engineData.module };
    else problems.push(`engine.module: got ${JSON.stringify(engineData.module)}, expected a module file relative to ${basename(source)} (resolved to ${path}, which does not exist)`);
  }
  const endpoints: [number, Endpoint][] = [];
  (Array.isArray(d.endpoints) ? (d.endpoints as unknown[]) : []).forEach((raw, i) => {
    const e = valid(endpointSchema, raw);
    if (e) endpoints.push([i, toEndpoint(e, `endpoints[${i}]`, problems)]);
  });
  checkDuplicates(endpoints, problems);
  // Without a valid api: the defaults stand in, so the contract is still checked against the rest.
  const api = loaded?.api ?? new ApiConfig();
  const runtime = valid(fileSchema.shape.runtime, d.runtime);
  const notes: string[] = [];
  const mode = runtime ? checkRuntime(runtime, endpoints, api, problems, notes) : 'subprocess';
  const groups = runtime ? groupsOf(runtime, source, problems) : [];
  problems.push(...sectionProblems);
  checkIngress(api, runtime, source, problems);
  if (loaded && runtime) loaded.ipc.maxPayloadBytes = runtime.platform.execution_ipc.max_payload_bytes;
  const graphql = runtime ? graphqlInterface(runtime, source, problems) : undefined;
  const found: AppFileInspection = { problems, endpoints, ...(engine ? { engine } : {}), ...(graphql ? { graphql } : {}), grouped: new Set(groups.flatMap((g) => g.handlers)) };
  if (problems.length > 0 || !loaded || !runtime || !engine || !engineData) return found;
  found.file = {
    source,
    name: name ?? basename(source, extname(source)),
    engineModule: engine.path,
    engineModuleAsWritten: engine.asWritten,
    endpoints: endpoints.map(([, e]) => e),
    handlerSettings: engineData.handlers ?? {},
    runtime,
    api,
    ipc: loaded.ipc,
    mode,
    ...(graphql ? { graphql } : {}),
    notes,
    groups,
    tcp: tcpOf(runtime.platform.execution_ipc),
  };
  return found;
}

/** Paths in api.auth are relative to the app file; the body limit must fit in a frame of the transport. */
function checkIngress(api: ApiConfig, runtime: RuntimeData | undefined, source: string, problems: string[]): void {
  const auth = api.auth;
  if (auth?.file) {
    auth.file = resolve(dirname(source), auth.file);
    if (!existsSync(auth.file)) problems.push(`api.auth.file: got a path that does not exist (${auth.file}), expected the keys file, relative to ${basename(source)}`);
  }
  if (auth?.check && !/^[a-z][a-z0-9+.-]+:/i.test(auth.check) && !isAbsolute(auth.check)) auth.check = resolve(dirname(source), auth.check);
  const frame = runtime?.platform.execution_ipc.max_payload_bytes;
  if (frame !== undefined && api.maxPayloadBytes > frame) {
    problems.push(`api.max_payload_bytes: got ${api.maxPayloadBytes}, expected at most runtime.platform.execution_ipc.max_payload_bytes (${frame}): a body the web side accepts must fit in one frame to the engine`);
  }
}

/** The graphql interface (kind graphql in runtime.web.interfaces): its SDL file read and its resolver map checked against it. */
function graphqlInterface(runtime: RuntimeData, source: string, problems: string[]): GraphQLInterface | undefined {
  const interfaces = runtime.web.interfaces ?? [];
  const i = interfaces.findIndex((f) => f.kind === 'graphql');
  if (i < 0) return undefined;
  const itf = interfaces[i]!;
  const at = `runtime.web.interfaces[${i}]`;
  if (!itf.schema || !itf.resolvers) {
    problems.push(`${at}: a graphql interface needs schema: (the SDL file) and resolvers: ({ Query: { field: engineHandler } })`);
    return undefined;
  }
  let sdl: string;
  const file = resolve(dirname(source), itf.schema);
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${at}.schema: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}), expected the GraphQL SDL file, relative to ${basename(source)}`);
    return undefined;
  }
  const path = itf.path ?? '/graphql';
  try {
    checkResolverMap(`${at}`, sdl, itf.resolvers);
  } catch (err) {
    problems.push((err as Error).message);
    return undefined;
  }
  return { path, sdl, resolvers: itf.resolvers, graphiql: itf.graphiql ?? false };
}

/** The groups with processes of their own: module (relative to the file) and handlers; each handler in one group only. */
function groupsOf(rt: RuntimeData, source: string, problems: string[]): GroupSpec[] {
  const out: GroupSpec[] = [];
  const owner = new Map<string, string>();
  rt.platform.process_groups.forEach((g, i) => {
    const at = `runtime.platform.process_groups[${i}]`;
    if (g.name === 'web' || (g.module === undefined && g.handlers === undefined)) return;
    if (g.module === undefined || g.handlers === undefined) {
      problems.push(`${at}: got ${g.module === undefined ? 'handlers without module' : 'module without handlers'}, expected both (module: the file exporting the handlers; handlers: their names)`);
      return;
    }
    const path = resolve(dirname(source), g.module);
    if (!existsSync(path)) {
      problems.push(`${at}.module: got ${JSON.stringify(g.module)}, expected a module file relative to ${basename(source)} (resolved to ${path}, which does not exist)`);
      return;
    }
    const handlers: string[] = [];
    const retry: Record<string, number> = {};
    for (const h of g.handlers) {
      const name = typeof h === 'string' ? h : h.name;
      const other = owner.get(name);
      if (other) problems.push(`${at}.handlers: "${name}" is already served by group "${other}"`);
      owner.set(name, g.name);
      handlers.push(name);
      if (typeof h !== 'string' && h.retry > 0) retry[name] = h.retry;
    }
    out.push({ name: g.name, module: pathToFileURL(path).href, processes: g.workers ?? 1, handlers, retry });
  });
  return out;
}

function tcpOf(x: RuntimeData['platform']['execution_ipc']): TcpLocalSpec {
  return {
    host: x.bind_host,
    port: x.bind_port,
    ttlSeconds: x.auth.ttl_seconds,
    nonceCacheSize: x.auth.nonce_cache_size,
    maxPayloadBytes: x.max_payload_bytes,
    secretFile: x.secret_file ?? null,
    allowRemote: x.allow_remote ?? false,
    connectFile: x.connect_file ?? null,
    // transport: tcp_local is the user's choice for the web processes as well.
    web: x.transport === 'tcp_local',
  };
}

/** The value parsed by `schema`, or undefined: its problems are reported by the whole-file parse. */
function valid<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

function toEndpoint(e: EndpointData, where: string, problems: string[]): Endpoint {
  const reply = ENDPOINT_KINDS[e.kind];
  const socket = PROTOCOLS[reply].socket;
  if (socket && e.methods && e.methods.some((m) => m !== 'GET')) {
    problems.push(`${where}.methods: got ${JSON.stringify(e.methods)}, expected nothing (or [GET]): a ${e.kind} endpoint is a WebSocket upgrade`);
  }
  if (socket && e.schema?.body) problems.push(`${where}.schema.body: got a schema, expected none: a ${e.kind} endpoint has no request body (frames carry the data)`);
  const out: Endpoint = { path: e.path, methods: e.methods ?? [...PROTOCOLS[reply].defaultMethods], kind: e.kind, reply, handler: e.handler };
  if (e.schema) out.schema = e.schema as RouteSchema;
  if (e.summary !== undefined) out.summary = e.summary;
  if (e.description !== undefined) out.description = e.description;
  if (e.tags) out.tags = e.tags;
  if (e.timeout !== undefined) out.timeout = e.timeout;
  if (e.status !== undefined) out.status = e.status;
  if (e.rate_limit !== undefined) out.rateLimit = e.rate_limit;
  if (e.max_payload_bytes !== undefined) out.maxPayloadBytes = e.max_payload_bytes;
  if (e.auth !== undefined) out.auth = e.auth;
  return out;
}

function checkDuplicates(endpoints: [number, Endpoint][], problems: string[]): void {
  const seen = new Map<string, number>();
  endpoints.forEach(([i, e]) => {
    // `{id}` and `:id` are the same route to Fastify.
    const path = e.path.replace(/\{([^}]+)\}/g, ':$1');
    for (const m of e.methods) {
      const key = `${m} ${path}`;
      const first = seen.get(key);
      if (first !== undefined) problems.push(`endpoints[${i}]: ${key} is already declared by endpoints[${first}]; remove one`);
      else seen.set(key, i);
    }
  });
  for (const [i, e] of endpoints) {
    if (e.path === '/_health' || e.path === '/docs' || e.path.startsWith('/docs/') || e.path === '/openapi.json') {
      problems.push(`endpoints[${i}].path: got ${JSON.stringify(e.path)}, expected a path the framework does not serve itself (/_health, /docs and /openapi.json are built in)`);
    }
  }
}

/** Checks the seed-000 contract against itself and against the rest of the file; returns the mode it selects. */
function checkRuntime(rt: RuntimeData, endpoints: [number, Endpoint][], api: ApiConfig, problems: string[], notes: string[]): AppFile['mode'] {
  const where = 'runtime.platform.execution_ipc';
  const x = rt.platform.execution_ipc;
  if (!RUNNABLE_TRANSPORTS.includes(x.transport)) {
    problems.push(`${where}.transport: got ${JSON.stringify(x.transport)}, expected ${RUNNABLE_TRANSPORTS.slice(0, -1).join(', ')} or ${RUNNABLE_TRANSPORTS.at(-1)}; ${x.transport} is part of the contract but not supported yet by this version`);
  }
  if (x.transport === 'pipe' || x.transport === 'memory') {
    if (x.auth.mode !== 'none') notes.push(`${where}.auth.mode=${x.auth.mode} applies to tcp_local; the ${x.transport} transport has no listening socket to protect`);
    if (x.bind_port !== 0 || x.bind_host !== '127.0.0.1') notes.push(`${where}.bind_host/bind_port apply to tcp_local; unused with ${x.transport}`);
  }
  if (x.transport === 'tcp_local' && x.auth.mode !== 'hmac') notes.push(`${where}.auth.mode=none: tcp_local signs every frame (HMAC-SHA256) whatever this says`);
  if (x.redis && x.transport !== 'redis') notes.push(`${where}.redis applies to the redis transport; unused with ${x.transport}`);
  if (x.transport === 'redis' && x.auth.mode !== 'none') notes.push(`${where}.auth.mode: the redis transport always signs its entries (redis.secret_file)`);

  const groups = rt.platform.process_groups;
  const names = new Map<string, number>();
  groups.forEach((g, i) => {
    const first = names.get(g.name);
    if (first !== undefined) problems.push(`runtime.platform.process_groups[${i}].name: got ${JSON.stringify(g.name)}, expected a unique name (also used by process_groups[${first}])`);
    else names.set(g.name, i);
    if (g.name !== 'web' && g.workers !== undefined && g.module === undefined) {
      problems.push(`runtime.platform.process_groups[${i}].workers: got ${g.workers}, expected nothing: without module and handlers "${g.name}" runs in the engine (main) process; give it module: and handlers: to run it in ${g.workers} processes of its own`);
    }
  });
  const webIndex = names.get('web');
  if (webIndex === undefined) {
    problems.push(`runtime.platform.process_groups: got ${JSON.stringify(groups.map((g) => g.name))}, expected a group named "web" (the web processes)`);
  } else {
    const web = groups[webIndex]!;
    if (web.stages && web.stages.length > 0) {
      problems.push(`runtime.platform.process_groups[${webIndex}].stages: got ${JSON.stringify(web.stages)}, expected nothing: the web group runs no user code, so it has no stages`);
    }
    if (web.workers !== undefined) {
      const declared = api.uvicorn.workers;
      if (declared !== 1 && declared !== web.workers) {
        problems.push(`runtime.platform.process_groups[${webIndex}].workers: got ${web.workers}, expected the same number as uvicorn.workers (${declared}), or set only one of them`);
      }
      api.uvicorn.workers = web.workers;
    }
  }
  const mode = x.transport === 'memory' ? 'direct' : 'subprocess';
  if (mode === 'direct' && api.uvicorn.workers > 1) {
    problems.push(`${where}.transport: got "memory" with ${api.uvicorn.workers} web workers, expected pipe: the memory transport serves HTTP in the main process, which is one process`);
  }

  const interfaces = rt.web.interfaces;
  if (interfaces) {
    const kinds = new Map<string, number>();
    interfaces.forEach((itf, i) => {
      const at = `runtime.web.interfaces[${i}]`;
      const first = kinds.get(itf.kind);
      if (first !== undefined) problems.push(`${at}.kind: got ${JSON.stringify(itf.kind)}, expected a kind not already declared (interfaces[${first}])`);
      else kinds.set(itf.kind, i);
      const bindable = bindablePorts(itf.kind);
      const wrong = itf.binds.filter((p) => !bindable.includes(p));
      if (wrong.length > 0) problems.push(`${at}.binds: got ${JSON.stringify(itf.binds)}, expected ports a ${itf.kind} interface can bind (${bindable.join(', ')})`);
      if (itf.kind === 'http' && !(itf.binds.includes('request') && itf.binds.includes('response'))) {
        problems.push(`${at}.binds: got ${JSON.stringify(itf.binds)}, expected request and response among them (an http interface answers requests)`);
      }
      if (itf.kind !== 'graphql' && (itf.schema || itf.resolvers || itf.path || itf.graphiql !== undefined)) {
        problems.push(`${at}: schema:, resolvers:, path: and graphiql: belong to a graphql interface, not ${itf.kind}`);
      }
    });
    endpoints.forEach(([i, e]) => {
      const needed = PROTOCOLS[e.reply].interface;
      const itf = interfaces.find((f) => f.kind === needed);
      if (!itf) {
        problems.push(`endpoints[${i}].kind: got ${JSON.stringify(e.kind)}, expected a kind whose interface is declared in runtime.web.interfaces (declared: ${interfaces.map((f) => f.kind).join(', ') || 'none'}; ${e.kind} needs ${needed})`);
        return;
      }
      const port = PROTOCOLS[e.reply].ports[0];
      if (!(itf.binds as string[]).includes(port)) {
        problems.push(`endpoints[${i}].kind: got ${JSON.stringify(e.kind)}, expected the ${needed} interface to bind the ${port} port (it binds ${itf.binds.join(', ')})`);
      }
    });
  }
  return mode;
}

/** `endpoints.0.path` -> `endpoints[0].path`, as a YAML reader counts list items. */
function indexStyle(line: string): string {
  const colon = line.indexOf(':');
  const path = line.slice(0, colon).replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  return path + line.slice(colon);
}

/** The shared validator cannot see through lists; name the known keys of a list item's mapping here. */
function withKnownKeys(line: string): string {
  const m = /^([^:]+): unknown key$/.exec(line);
  if (!m) return line;
  let cur: unknown = fileSchema;
  const parts = m[1]!.replace(/\[\d+\]/g, '.[]').split('.').slice(0, -1);
  for (const part of parts) {
    cur = unwrap(cur);
    if (part === '[]') cur = (cur as { element?: unknown }).element;
    else cur = (cur as { shape?: Record<string, unknown> }).shape?.[part];
  }
  const shape = (unwrap(cur) as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? `${line}; known keys are ${Object.keys(shape).join(', ')}` : line;
}

function unwrap(schema: unknown): unknown {
  let cur = schema as { shape?: unknown; element?: unknown; unwrap?: () => unknown } | undefined;
  // Defaults and optionals wrap the schema; peel them to reach the object or the list.
  for (let i = 0; i < 4 && cur && !cur.shape && !cur.element && typeof cur.unwrap === 'function'; i++) cur = cur.unwrap() as typeof cur;
  return cur;
}

/** The normalised contract: what `serve` will do, with every default filled in. */
export function contractSummary(f: AppFile, handlers?: readonly string[]): Record<string, unknown> {
  const x = f.runtime.platform.execution_ipc;
  const workers = f.api.uvicorn.workers;
  return {
    app: f.name,
    source: f.source,
    mode: f.mode,
    execution_ipc: {
      transport: x.transport,
      codec: f.ipc.codec,
      max_pending: f.ipc.maxPending,
      response_timeout_s: f.api.responseTimeout,
      max_payload_bytes: x.max_payload_bytes,
      auth: x.transport === 'tcp_local' ? x.auth : { mode: 'none (no listening socket)' },
      ...(x.transport === 'tcp_local' ? { bind_host: x.bind_host, bind_port: x.bind_port } : {}),
      ...(x.transport === 'redis' ? { redis: redisSummary(f) } : {}),
    },
    ingress: {
      max_payload_bytes: f.api.maxPayloadBytes,
      auth: f.api.auth ? { keys_from: [f.api.auth.file && 'file', f.api.auth.env && `$${f.api.auth.env}`].filter(Boolean), header: f.api.auth.header, exempt: f.api.auth.exempt } : 'none',
      rate_limit: f.api.rateLimit ?? 'none',
    },
    process_groups: f.runtime.platform.process_groups.map((g) =>
      g.name === 'web'
        ? { name: 'web', processes: f.mode === 'direct' ? 0 : workers, runs: f.mode === 'direct' ? 'HTTP in the main process (memory transport)' : 'framework code only (no user code)' }
        : g.module !== undefined
          ? { name: g.name, processes: g.workers ?? 1, handlers: (g.handlers ?? []).map((h) => (typeof h === 'string' ? h : h.name)), runs: `its own processes (${g.module}), over tcp_local` }
          : { name: g.name, stages: g.stages ?? [], runs: 'engine (main process)' },
    ),
    web: {
      listen: `${f.api.host}:${f.api.port}`,
      interfaces: (f.runtime.web.interfaces ?? [{ kind: 'http', binds: ['request', 'response', 'stream'] }]).map((i) => ({ kind: i.kind, binds: i.binds })),
    },
    engine: { module: f.engineModule, ...(handlers ? { handlers: [...handlers] } : {}) },
    endpoints: f.endpoints.map((e) => ({ route: `${e.methods.join(',')} ${e.path}`, kind: e.kind, port: portOf(e.kind), handler: e.handler })),
    notes: f.notes,
  };
}

export interface RouteRow {
  methods: string;
  path: string;
  kind: string;
  port: string;
  handler: string;
  timeout: string;
}

/** The route table: declared endpoints, then what the framework serves itself. */
export function routeTable(f: AppFile): RouteRow[] {
  const rows: RouteRow[] = f.endpoints.map((e) => ({
    methods: e.methods.join(','),
    path: e.path,
    kind: e.kind,
    port: portOf(e.kind),
    handler: e.handler,
    timeout: `${e.timeout ?? f.api.responseTimeout}s`,
  }));
  if (f.graphql) {
    const handlers = [...new Set(Object.values(f.graphql.resolvers).flatMap((fields) => Object.values(fields)))];
    rows.push({ methods: 'GET,POST', path: f.graphql.path, kind: 'graphql', port: 'request, stream', handler: handlers.join(','), timeout: `${f.api.responseTimeout}s` });
  }
  rows.push({ methods: 'GET', path: '/_health', kind: 'built-in', port: '-', handler: '-', timeout: '-' });
  rows.push({ methods: 'GET', path: '/docs', kind: 'built-in', port: '-', handler: '-', timeout: '-' });
  rows.push({ methods: 'GET', path: '/openapi.json', kind: 'built-in', port: '-', handler: '-', timeout: '-' });
  return rows;
}

/** The backbone as the contract shows it: the URL without its password, file paths but never their content. */
function redisSummary(f: AppFile): Record<string, unknown> {
  const r = f.runtime.platform.execution_ipc.redis ?? redisSectionSchema.parse({});
  return {
    url: redactUrl(r.url),
    prefix: r.prefix ?? `appinfra:${f.name}`,
    request_stream: 'one per process group (requests:engine)',
    max_length: r.max_length,
    max_in_flight: r.max_in_flight,
    claim_idle_seconds: r.claim_idle_seconds,
    idempotent: r.idempotent,
    signed: r.secret_file ? `HMAC-SHA256, secret from ${r.secret_file}` : 'HMAC-SHA256, a secret generated per run (role all only; set secret_file to split roles)',
  };
}
