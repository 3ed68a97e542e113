/**
 * How request parts are validated, and which values are converted on the way.
 *
 * Query strings, path parameters and headers are text, so their values are converted to
 * the schema's type as Fastify does by default ("5" -> 5, `?tag=a` -> ["a"]).
 *
 * A JSON body already carries types. Lax (the default), as FastAPI/pydantic: a numeric
 * string becomes a number or integer and "true"/"false" a boolean, nothing else; a number
 * is never turned into a string, null never into 0 or false, a scalar never into an
 * array. Ajv's `coerceTypes` converts in every direction, so body schemas are compiled
 * without it and each `type` is replaced by the `x-appinfra-type` keyword below, which
 * checks the type and makes only those conversions. Strict (route option `strict: true`,
 * i.e. `config.strict` in Fastify's route options): the body is validated as written,
 * with no conversion at all.
 */
import AjvCompilerModule from '@fastify/ajv-compiler';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Validate the JSON body exactly as its schema says, converting nothing (default: lax). */
    strict?: boolean;
  }
}

type Validate = ((data: unknown) => boolean) & { errors?: unknown };
interface CompileRequest {
  schema: unknown;
  method?: string | string[];
  url?: string;
  httpPart?: string;
}
type Compile = (req: CompileRequest) => Validate;
interface AjvServerOptions {
  customOptions?: Record<string, unknown>;
  plugins?: unknown[];
  onCreate?: (ajv: unknown) => void;
}
type BuildValidator = (externalSchemas: Record<string, unknown>, options: AjvServerOptions) => Compile;
interface AjvLike {
  addKeyword(def: Record<string, unknown>): unknown;
}

/**
 * Fastify's own validator builder (Ajv with ajv-formats and Fastify's defaults). A direct
 * dependency in Fastify's range, so npm installs the one copy both use: in the bundled web
 * entry it is then the same module as Fastify's, and Ajv loads once.
 */
const AjvCompiler = AjvCompilerModule as unknown as () => BuildValidator;

const LAX_TYPE = 'x-appinfra-type';
type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'object' | 'array';

function hasType(data: unknown, t: JsonType): boolean {
  switch (t) {
    case 'integer':
      return Number.isInteger(data);
    case 'number':
      return typeof data === 'number' && Number.isFinite(data);
    case 'null':
      return data === null;
    case 'array':
      return Array.isArray(data);
    case 'object':
      return typeof data === 'object' && data !== null && !Array.isArray(data);
    default:
      return typeof data === t;
  }
}

const NO = Symbol('no conversion');
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** pydantic's lax conversions that a JSON body needs: from a string, to a number or boolean. */
function fromString(s: string, t: JsonType): unknown {
  if (t === 'integer' && INTEGER.test(s) && Number.isSafeInteger(Number(s))) return Number(s);
  if (t === 'number' && NUMBER.test(s) && Number.isFinite(Number(s))) return Number(s);
  if (t === 'boolean' && (s === 'true' || s === 'false')) return s === 'true';
  return NO;
}

function checkLaxType(this: unknown, types: JsonType[], data: unknown, _parent: unknown, cxt: { parentData?: Record<string | number, unknown>; parentDataProperty?: string | number }): boolean {
  if (types.some((t) => hasType(data, t))) return true;
  if (typeof data === 'string' && cxt.parentData !== undefined && cxt.parentDataProperty !== undefined) {
    for (const t of types) {
      const v = fromString(data, t);
      if (v !== NO) {
        cxt.parentData[cxt.parentDataProperty] = v;
        return true;
      }
    }
  }
  (checkLaxType as unknown as Validate).errors = [{ keyword: 'type', message: `must be ${types.join(',')}`, params: { type: types.join(',') } }];
  return false;
}

/** Ajv plugin: the keyword lax body schemas use in place of `type`; first, so later keywords see the converted value. */
function laxTypeKeyword(ajv: AjvLike): AjvLike {
  ajv.addKeyword({ keyword: LAX_TYPE, schemaType: 'array', modifying: true, errors: true, before: 'const', validate: checkLaxType });
  return ajv;
}

const ONE = ['additionalProperties', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems', 'items'];
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const MAP = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies'];
const laxCache = new WeakMap<object, unknown>();

/** The schema with every `type` (and `nullable`) replaced by the lax keyword, at every depth. */
export function laxSchema(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const cached = laxCache.get(schema);
  if (cached) return cached;
  const src = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'type' || k === 'nullable') continue;
    if (ONE.includes(k) && typeof v === 'object' && v !== null && !Array.isArray(v)) out[k] = laxSchema(v);
    else if (LIST.includes(k) && Array.isArray(v)) out[k] = v.map(laxSchema);
    else if (MAP.includes(k) && typeof v === 'object' && v !== null) out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, Array.isArray(s) ? s : laxSchema(s)]));
    else out[k] = v;
  }
  if (src.type !== undefined) {
    const types = (Array.isArray(src.type) ? [...src.type] : [src.type]) as JsonType[];
    if (src.nullable === true && !types.includes('null')) types.push('null');
    out[LAX_TYPE] = types;
  }
  laxCache.set(schema, out);
  return out;
}

/** Header names are case-insensitive: Fastify lowercases a header schema's names unless the compiler is custom, as this one is. */
function lowerCaseHeaders(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
  if (out.properties && typeof out.properties === 'object') {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k.toLowerCase(), v]));
  }
  if (Array.isArray(out.required)) out.required = out.required.map((r: unknown) => (typeof r === 'string' ? r.toLowerCase() : r));
  for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map(lowerCaseHeaders);
  return out;
}

function routeKey(method: string | string[] | undefined, url: string | undefined): string {
  return `${[method ?? ''].flat().join(',')} ${url ?? ''}`;
}

/** Fastify's `schemaController` option. */
interface SchemaControllerOption {
  compilersFactory: { buildValidator: BuildValidator };
}

/**
 * The validators of one app: `schemaController` goes into Fastify's options, and
 * `watchRoutes(app)` (before any route is added) notes which routes are strict.
 */
export function createValidation(): { schemaController: SchemaControllerOption; watchRoutes(app: FastifyInstance): void } {
  const strictRoutes = new Set<string>();
  // One pool each: Fastify's builder caches compilers by options, and lax and strict bodies share theirs.
  const [buildParts, buildLax, buildStrict] = [AjvCompiler(), AjvCompiler(), AjvCompiler()];
  const buildValidator: BuildValidator = (externalSchemas, options) => {
    const parts = buildParts(externalSchemas, options);
    const bodyOptions = { ...options, customOptions: { ...(options?.customOptions ?? {}), coerceTypes: false, strictTypes: false } };
    // Built on first use: many apps have no body schema, and each Ajv costs start-up time.
    let lax: Compile | undefined;
    let strict: Compile | undefined;
    return (req) => {
      if (req.httpPart === 'headers') return parts({ ...req, schema: lowerCaseHeaders(req.schema) });
      if (req.httpPart !== 'body') return parts(req);
      if (strictRoutes.has(routeKey(req.method, req.url))) {
        strict ??= buildStrict(externalSchemas, bodyOptions);
        return strict(req);
      }
      lax ??= buildLax(Object.fromEntries(Object.entries(externalSchemas).map(([k, s]) => [k, laxSchema(s)])), {
        ...bodyOptions,
        plugins: [...(options?.plugins ?? []), laxTypeKeyword],
      });
      return lax({ ...req, schema: laxSchema(req.schema) });
    };
  };
  return {
    schemaController: { compilersFactory: { buildValidator } },
    watchRoutes(app) {
      app.addHook('onRoute', (route) => {
        if (route.config?.strict === true) strictRoutes.add(routeKey(route.method, route.url));
      });
    },
  };
}
