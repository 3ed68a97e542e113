import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { GroupSpec, TcpLocalSpec } from '../../contract/groups.js';
import { invalid, parseWith } from './validate.js';

const posInt = (what: string) => z.number({ error: `a positive integer (${what})` }).int({ error: `a positive integer (${what})` }).positive({ error: `a positive integer (${what})` });
const handlerName = z.string({ error: 'a handler name' }).regex(/^[A-Za-z_$][\w$]*$/, { error: 'a handler name (the name the module exports)' });

/** A handler of a group: its name, or `{ name, retry }` for an idempotent one tried again on another process. */
const groupHandler = z.union([handlerName, z.strictObject({ name: handlerName, retry: z.number({ error: 'an integer >= 0' }).int().min(0, { error: 'an integer >= 0' }).default(0) })], {
  error: 'a handler name, or { name, retry }',
});

export const groupOptionsSchema = z.strictObject({
  /** URL (or absolute path) of the module exporting the handlers. */
  module: z.union([z.string().min(1), z.instanceof(URL)], { error: 'a module URL (new URL("./handlers.js", import.meta.url)) or an absolute path' }),
  processes: posInt('processes in the group').default(1),
  handlers: z.array(groupHandler, { error: 'a list of handler names' }).min(1, { error: 'at least one handler' }),
});
export type GroupOptions = z.input<typeof groupOptionsSchema>;

export const executionIpcOptionsSchema = z.strictObject({
  bindHost: z.string({ error: 'a loopback address' }).min(1).default('127.0.0.1'),
  bindPort: z.number({ error: 'a port number 0..65535' }).int().min(0).max(65535, { error: 'a port number 0..65535' }).default(0),
  ttlSeconds: z.number({ error: 'a positive number of seconds' }).positive({ error: 'a positive number of seconds' }).default(30),
  nonceCacheSize: posInt('nonces remembered against replay').default(100000),
  maxPayloadBytes: posInt('largest frame accepted').default(64 * 1024 * 1024),
  secretFile: z.string({ error: 'a path to a file holding the secret, or null' }).min(1).nullable().default(null),
  allowRemote: z.boolean({ error: 'true or false' }).default(false),
  connectFile: z.string({ error: 'a path, or null' }).min(1).nullable().default(null),
  /** true: the web processes use tcp_local as well (default: their inherited pipe, the faster path for a child). */
  web: z.boolean({ error: 'true or false' }).default(false),
});
export type ExecutionIpcOptions = z.input<typeof executionIpcOptionsSchema>;

/** A checked group, as the runtime takes it. */
export function groupSpec(name: string, options: GroupOptions): GroupSpec {
  if (!/^[a-z][a-z0-9_-]*$/.test(name) || name === 'web') {
    throw invalid([`group: got ${JSON.stringify(name)}, expected a group name (lowercase letters, digits, _ and -), not "web"`]);
  }
  const o = parseWith(groupOptionsSchema, options, `group ${name}`);
  const module = o.module instanceof URL ? o.module.href : isAbsolute(o.module) ? pathToFileURL(o.module).href : o.module;
  const handlers: string[] = [];
  const retry: Record<string, number> = {};
  for (const h of o.handlers) {
    if (typeof h === 'string') handlers.push(h);
    else {
      handlers.push(h.name);
      if (h.retry > 0) retry[h.name] = h.retry;
    }
  }
  return { name, module, processes: o.processes, handlers, retry };
}

export function tcpLocalSpec(options: ExecutionIpcOptions = {}): TcpLocalSpec {
  const o = parseWith(executionIpcOptionsSchema, options, 'executionIpc');
  return { host: o.bindHost, port: o.bindPort, ttlSeconds: o.ttlSeconds, nonceCacheSize: o.nonceCacheSize, maxPayloadBytes: o.maxPayloadBytes, secretFile: o.secretFile, allowRemote: o.allowRemote, connectFile: o.connectFile, web: o.web };
}
