import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../errors/index.js';
import { loadSecretSync } from '../../ipc/signing.js';
import type { Role } from '../../runtime/main/backbone.js';
import type { RedisOptions } from '../builder/subprocess.js';
import type { AppFile } from '../cli/app-file.js';
import { REDIS_SECTION_DEFAULTS } from './backbone.js';

/** What the command line may set over the file (`--role`, `--redis-url`, and files: never a secret in argv). */
export interface BackboneOverrides {
  role?: Role;
  url?: string;
  passwordFile?: string;
  secretFile?: string;
}

/** The backbone options of an app file, its files read (relative to the app file; the command line's to the working directory). */
export function redisOptionsOf(file: AppFile, over: BackboneOverrides): RedisOptions {
  const r = file.runtime.platform.execution_ipc.redis ?? REDIS_SECTION_DEFAULTS;
  const here = dirname(file.source);
  const o: RedisOptions = {
    url: over.url ?? r.url,
    maxLength: r.max_length,
    maxInFlight: r.max_in_flight,
    claimIdleMs: Math.round(r.claim_idle_seconds * 1000),
    idempotent: r.idempotent,
  };
  if (r.prefix) o.prefix = r.prefix;
  const passwordFile = over.passwordFile ?? (r.password_file && resolve(here, r.password_file));
  if (passwordFile) o.password = readText(passwordFile, 'runtime.platform.execution_ipc.redis.password_file');
  const secretFile = over.secretFile ?? (r.secret_file && resolve(here, r.secret_file));
  if (secretFile) {
    try {
      o.secret = loadSecretSync(secretFile);
    } catch (err) {
      throw new ConfigError(`runtime.platform.execution_ipc.redis.secret_file: ${(err as Error).message}`);
    }
  }
  return o;
}

function readText(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
