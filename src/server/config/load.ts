import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigErrorCode } from '../../errors/index.js';
import { ApiConfig } from './api.js';
import { IPCConfig } from './ipc.js';
import { UvicornConfig } from './uvicorn.js';
import { collect, invalid } from './validate.js';
import { unifyResponseTimeout } from './deadline.js';
import { parseYamlText } from '../../app/yaml.js';

export { parseYamlText };

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
 * Every section is checked even when another is wrong: one error lists all the problems.
 */
export function configFromObject(doc: unknown, allowSections: readonly string[] = []): LoadedConfig {
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`(root): got ${Array.isArray(doc) ? 'a list' : JSON.stringify(doc)}, expected a mapping with api:, uvicorn:, ipc: sections`);
  }
  const problems: string[] = [];
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (OWNED.has(key)) continue;
    if (!allowSections.includes(key)) {
      problems.push(`${key}: unknown section; known sections are ${[...OWNED, ...allowSections].join(', ')}`);
      continue;
    }
    rest[key] = value;
  }
  const d = doc as { api?: unknown; uvicorn?: unknown; ipc?: unknown };
  const api = section(d.api, 'api', problems);
  const uv = section(d.uvicorn, 'uvicorn', problems);
  const both = uv !== undefined && api !== undefined && 'uvicorn' in api;
  if (both) problems.push('uvicorn: given both at top level and under api.uvicorn; keep one');
  // Checked before api (which embeds it) but reported after, in the order the file reads.
  const uvicornProblems: string[] = [];
  const uvicorn = uv && !both ? collect(() => new UvicornConfig(uv), uvicornProblems) : undefined;
  const apiInit: Record<string, unknown> = { ...(api ?? {}) };
  // A broken top-level uvicorn: is reported by itself; api: is still checked, without it.
  if (uvicorn) apiInit.uvicorn = uvicorn;
  const apiConfig = collect(() => new ApiConfig(apiInit), problems);
  problems.push(...uvicornProblems);
  const ipc = collect(() => new IPCConfig(section(d.ipc, 'ipc', problems) ?? {}), problems);
  if (apiConfig && ipc) {
    const clash = unifyResponseTimeout(apiConfig, ipc);
    if (clash) problems.push(clash);
  }
  if (problems.length > 0 || !apiConfig || !ipc) throw invalid(problems);
  return { api: apiConfig, ipc, rest };
}

function section(value: unknown, name: string, problems: string[]): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${name}: got ${JSON.stringify(value)}, expected a mapping`);
    return undefined;
  }
  return value as Record<string, unknown>;
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
      throw new ConfigError(`${path}: ${err.message}`, err.details, err.code as ConfigErrorCode);
    }
    throw err;
  }
}
