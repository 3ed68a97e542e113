import { resolve } from 'node:path';
import { ConfigError } from '../../errors/index.js';
import { isRole, type Role } from '../../runtime/main/backbone.js';
import type { BackboneOverrides } from '../config/backbone-file.js';
import type { AppFile } from './app-file.js';

/** `appinfra serve` options of the Redis backbone. A secret or password is only ever named by a file. */
export const BACKBONE_OPTIONS = [
  { flags: '--role <role>', help: 'all (default: web processes and engine here), web (HTTP only), engine (handlers in no process group) or group:NAME (the handlers of process group NAME); roles other than all need transport: redis' },
  { flags: '--redis-url <url>', help: 'Redis backbone URL (overrides execution_ipc.redis.url); put no password here: use --redis-password-file' },
  { flags: '--redis-password-file <path>', help: 'file holding the Redis password' },
  { flags: '--secret-file <path>', help: 'file holding the backbone signing secret (the same on every machine)' },
];

export interface BackboneFlags {
  role?: Role;
  redisUrl?: string;
  redisPasswordFile?: string;
  secretFile?: string;
}

/** The command line's backbone settings, checked against the file's transport. */
export function backboneOverrides(file: AppFile, flags: BackboneFlags): BackboneOverrides {
  const transport = file.runtime.platform.execution_ipc.transport;
  if (flags.role !== undefined && !isRole(flags.role)) throw new ConfigError(`--role: got ${JSON.stringify(flags.role)}, expected all, web, engine or group:NAME`);
  const given = Object.entries(flags).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (transport !== 'redis') {
    if (given.length > 0 && !(given.length === 1 && flags.role === 'all')) {
      throw new ConfigError(`--${given.map(kebab).join(', --')}: the Redis backbone options need runtime.platform.execution_ipc.transport: redis (the file says ${transport})`);
    }
    return {};
  }
  if (flags.redisUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(flags.redisUrl);
    } catch {
      // reported below
    }
    if (!url || !/^rediss?:$/.test(url.protocol)) throw new ConfigError(`--redis-url: got ${JSON.stringify(flags.redisUrl)}, expected a redis:// or rediss:// URL`);
    // argv is visible to every user of the machine (ps): a password there would be public.
    if (url.password) throw new ConfigError('--redis-url: the URL holds a password, and argv is visible to every user of this machine; put it in a file and pass --redis-password-file <path>');
  }
  const out: BackboneOverrides = { role: flags.role ?? 'all' };
  if (flags.redisUrl !== undefined) out.url = flags.redisUrl;
  if (flags.redisPasswordFile !== undefined) out.passwordFile = resolve(flags.redisPasswordFile);
  if (flags.secretFile !== undefined) out.secretFile = resolve(flags.secretFile);
  return out;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
