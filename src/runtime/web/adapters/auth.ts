/**
 * API keys / bearer tokens at the adapter boundary: one onRequest hook for every route,
 * so HTTP, SSE, a WebSocket's upgrade and GraphQL are refused the same way before the
 * engine sees anything. Keys are read here, in the process that serves, from a file or
 * an environment variable the config names: never from argv, never logged, and compared
 * in constant time (SHA-256 digests, every key compared, no early exit).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthData } from '../../../server/config/ingress.js';
import { CODES, ConfigError } from '../../../errors/index.js';
import { PolicyError } from './refusal.js';
import { importUserModule } from './modules.js';

/** Who a request is, once its key matched: the key's position in the list (never the key) and its scopes. */
export interface Principal {
  id: string;
  scopes: ReadonlySet<string>;
}

/** The user's own check (the `check` module's default export): false refuses with 403. */
export type AuthCheck = (request: FastifyRequest, principal: Principal) => boolean | Promise<boolean>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request's key matched (auth on). */
    principal?: Principal;
  }
}

interface Key {
  digest: Buffer;
  principal: Principal;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** `<key> [scope ...]` per line (or per `;` in an environment variable); `#` starts a comment. */
export function parseKeys(text: string, source: string): Key[] {
  const keys: Key[] = [];
  for (const raw of text.split(/[\n;]/)) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [key, ...scopes] = line.split(/\s+/);
    keys.push({ digest: digest(key!), principal: { id: `${source}#${keys.length + 1}`, scopes: new Set(scopes) } });
  }
  return keys;
}

function loadKeys(auth: AuthData): Key[] {
  const keys: Key[] = [];
  if (auth.file) {
    let text: string;
    try {
      text = readFileSync(auth.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`api.auth.file: cannot read ${auth.file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    keys.push(...parseKeys(text, 'file'));
  }
  if (auth.env) {
    const text = process.env[auth.env];
    if (text === undefined) throw new ConfigError(`api.auth.env: the environment variable ${auth.env} is not set`);
    keys.push(...parseKeys(text, 'env'));
  }
  if (keys.length === 0) throw new ConfigError(`api.auth: no key found in ${[auth.file, auth.env && `$${auth.env}`].filter(Boolean).join(' or ')}; every request would be refused`);
  return keys;
}

/** The key whose digest matches, comparing against every key so the time says nothing about which or how many. */
function match(keys: readonly Key[], presented: string): Principal | undefined {
  const d = digest(presented);
  let found: Principal | undefined;
  for (const k of keys) if (timingSafeEqual(k.digest, d) && !found) found = k.principal;
  return found;
}

/** What the route's config says (set from a forward route's `auth`, or by a route module's `config.auth`). */
type RouteAuth = false | { scopes?: string[] } | undefined;

export async function installAuth(app: FastifyInstance, auth: AuthData): Promise<void> {
  const keys = loadKeys(auth);
  const check = auth.check ? await loadCheck(auth.check) : undefined;
  const header = auth.header.toLowerCase();
  const bearer = header === 'authorization';
  const challenge = bearer ? 'Bearer realm="appinfra"' : `ApiKey realm="appinfra", header="${header}"`;
  const exempt = new Set(auth.exempt);
  const refuse = (req: FastifyRequest, reply: FastifyReply, code: 'UNAUTHORIZED' | 'FORBIDDEN', message: string, reason: string): never => {
    if (code === 'UNAUTHORIZED') reply.header('www-authenticate', challenge);
    throw new PolicyError(code, message, reason, req.routeOptions.url);
  };
  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url;
    const routeAuth = (req.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth;
    // No route (404), or a route that opted out: nothing to protect.
    if (url === undefined || routeAuth === false || exempt.has(url)) return;
    const raw = req.headers[header];
    let presented = typeof raw === 'string' ? raw : undefined;
    if (presented !== undefined && bearer) presented = /^Bearer\s+(\S+)\s*$/i.exec(presented)?.[1];
    if (!presented) refuse(req, reply, 'UNAUTHORIZED', bearer ? 'Send the key as Authorization: Bearer <key>' : `Send the key in the ${header} header`, 'auth_missing');
    const principal = match(keys, presented!);
    if (!principal) refuse(req, reply, 'FORBIDDEN', 'The key is not valid', 'auth_refused');
    const missing = (routeAuth?.scopes ?? []).filter((s) => !principal!.scopes.has(s));
    if (missing.length > 0) refuse(req, reply, 'FORBIDDEN', `The key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, 'auth_scope');
    req.principal = principal!;
    if (check && !(await check(req, principal!))) refuse(req, reply, 'FORBIDDEN', CODES.FORBIDDEN.message, 'auth_check');
  });
}

async function loadCheck(spec: string): Promise<AuthCheck> {
  const mod = await importUserModule(spec, (err) => new ConfigError(`api.auth.check: cannot import ${spec} (${err.message})`));
  if (typeof mod.default !== 'function') throw new ConfigError(`api.auth.check: ${spec} must export default a function (request, principal) => boolean`);
  return mod.default as AuthCheck;
}
