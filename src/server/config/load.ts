import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../../errors.js';
import { ApiConfig } from './api.js';
import { IPCConfig } from './ipc.js';
import { UvicornConfig } from './uvicorn.js';

export interface LoadedConfig {
  api: ApiConfig;
  ipc: IPCConfig;
  /** Top-level sections this loader does not own (for example `runtime:`, `routes:`), left for their owners. */
  rest: Record<string, unknown>;
}

const OWNED = new Set(['api', 'uvicorn', 'ipc']);

/**
 * Reads `api:`, `uvicorn:` and `ipc:` sections from a parsed document. `uvicorn` may be
 * top level or under `api`, not both. Other top-level keys are only allowed when the
 * caller names them (`allowSections`), so a typo is an error, not silently ignored.
 */
export function configFromObject(doc: unknown, allowSections: readonly string[] = []): LoadedConfig {
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`(root): got ${Array.isArray(doc) ? 'a list' : JSON.stringify(doc)}, expected a mapping with api:, uvicorn:, ipc: sections`);
  }
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (OWNED.has(key)) continue;
    if (!allowSections.includes(key)) {
      const known = [...OWNED, ...allowSections].join(', ');
      throw new ConfigError(`Invalid configuration:\n  - ${key}: unknown section; known sections are ${known}`);
    }
    rest[key] = value;
  }
  const d = doc as { api?: unknown; uvicorn?: unknown; ipc?: unknown };
  const api = section(d.api, 'api');
  const uv = section(d.uvicorn, 'uvicorn');
  if (uv && api && 'uvicorn' in api) {
    throw new ConfigError('Invalid configuration:\n  - uvicorn: given both at top level and under api.uvicorn; keep one');
  }
  const apiInit: Record<string, unknown> = { ...(api ?? {}) };
  if (uv) apiInit.uvicorn = new UvicornConfig(uv);
  return { api: new ApiConfig(apiInit), ipc: new IPCConfig(section(d.ipc, 'ipc') ?? {}), rest };
}

function section(value: unknown, name: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`Invalid configuration:\n  - ${name}: got ${JSON.stringify(value)}, expected a mapping`);
  }
  return value as Record<string, unknown>;
}

/** Parses YAML text; a syntax error names the line and column. */
export function parseYamlText(text: string, source: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      throw new ConfigError(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML: ${err.message.split('\n')[0]}`);
    }
    throw err;
  }
}

/** Loads a YAML config file with `api:`, `uvicorn:` and `ipc:` sections. */
export function loadConfigFile(path: string, allowSections: readonly string[] = []): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return configFromObject(parseYamlText(text, path), allowSections);
  } catch (err) {
    if (err instanceof ConfigError && !err.message.startsWith(path)) {
      throw new ConfigError(`${path}: ${err.message}`, err.details);
    }
    throw err;
  }
}
