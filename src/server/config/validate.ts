import { z } from 'zod';
import { ConfigError } from '../../errors/index.js';

/** `foo_bar` -> `fooBar`: the seed's snake_case keys are accepted beside camelCase. */
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Renames snake_case keys to camelCase one level deep and remembers what the user
 * wrote, so an error can name the key as it appears in their file. A key given twice
 * goes to `problems` when the caller collects them (so it hides nothing else), or throws.
 */
export function normaliseKeys(input: unknown, where: string, originals: Map<string, string>, problems?: string[]): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    const camel = camelKey(key);
    if (camel in out) {
      const problem = `${join(where, camel)}: given twice (as snake_case and camelCase); keep one`;
      if (!problems) throw invalid([problem]);
      problems.push(problem);
      continue;
    }
    out[camel] = value;
    originals.set(join(where, camel), join(where, key));
  }
  return out;
}

function join(a: string, b: string | number): string {
  return a ? `${a}.${b}` : String(b);
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const p of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

/**
 * Parses `input` with `schema`; on failure throws one ConfigError that lists every
 * problem as "key path: got <value>, expected <what>", after the `earlier` ones the
 * caller found while preparing the input.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
  originals: Map<string, string> = new Map(),
  earlier: readonly string[] = [],
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success && earlier.length === 0) return result.data;
  const lines: string[] = [...earlier];
  for (const issue of result.success ? [] : result.error.issues) {
    const camelPath = issue.path.reduce<string>((acc, p) => join(acc, String(p)), where);
    const shown = originals.get(camelPath) ?? asWritten(camelPath, originals);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        // Name the key as the user wrote it (snake_case stays snake_case).
        const wrote = originals.get(join(camelPath, key)) ?? join(shown, key);
        lines.push(`${wrote}: unknown key${known ? `; known keys are ${known}` : ''}`);
      }
      continue;
    }
    lines.push(`${shown || '(root)'}: got ${show(valueAt(input, issue.path))}, expected ${issue.message}`);
  }
  throw invalid(lines);
}

/** A nested path under a renamed key, as written: `api.rateLimit.rate` -> `api.rate_limit.rate`. */
function asWritten(path: string, originals: Map<string, string>): string {
  for (let p = path; p.includes('.'); p = p.slice(0, p.lastIndexOf('.'))) {
    const o = originals.get(p);
    if (o !== undefined) return o + path.slice(p.length);
  }
  return path;
}

function knownKeys(schema: z.ZodType, path: PropertyKey[]): string | undefined {
  let cur: unknown = schema;
  for (const p of path) {
    const shape = shapeOf(cur);
    if (!shape) return undefined;
    cur = shape[String(p)];
  }
  const shape = shapeOf(cur);
  return shape ? Object.keys(shape).join(', ') : undefined;
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  let cur = schema as { shape?: Record<string, unknown>; unwrap?: () => unknown } | undefined;
  // Defaults and optionals wrap the object schema; peel them to reach the shape.
  for (let i = 0; i < 4 && cur && !cur.shape && typeof cur.unwrap === 'function'; i++) {
    cur = cur.unwrap() as typeof cur;
  }
  return cur?.shape;
}

/** The problems a ConfigError lists (one per line), or its message as one problem. */
export function problemsOf(err: ConfigError): string[] {
  const listed = (err.details as { problems?: unknown } | undefined)?.problems;
  if (Array.isArray(listed)) return listed.map(String);
  return [err.message.replace(/^Invalid configuration:\n\s*- /, '').replace(/\n\s*- /g, '\n')];
}

/** Runs `build`; a ConfigError adds its problems to `problems` instead of ending the check. */
export function collect<T>(build: () => T, problems: string[]): T | undefined {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...problemsOf(err));
    return undefined;
  }
}

export function invalid(problems: readonly string[]): ConfigError {
  return new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems: [...problems] });
}
