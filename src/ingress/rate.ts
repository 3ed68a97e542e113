/**
 * Rate strings as the Python original takes them: `"<count>/<unit>"` (`"60/min"`,
 * `"1000/hour"`, `"10/s"`). Pure: used at build (to refuse a bad string early) and by
 * whoever keeps the buckets.
 */
import { ConfigError } from '../errors/index.js';

const UNIT_MS: Record<string, number> = {
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** The units a rate string may name, for messages. */
export const RATE_UNITS = Object.keys(UNIT_MS);

export interface Rate {
  /** Requests allowed per period. */
  limit: number;
  /** The period, in milliseconds. */
  periodMs: number;
}

/** Why `text` is not a rate string, or undefined when it is one. */
export function rateProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return `Invalid rate limit format: ${JSON.stringify(text)}. Expected "<number>/<unit>" (e.g. "60/min"), unit one of ${RATE_UNITS.join(', ')}`;
  const m = /^\s*(\d+)\s*\/\s*([A-Za-z]+)\s*$/.exec(text);
  if (!m) return `Invalid rate limit format: '${text}'. Expected "<number>/<unit>" (e.g. "60/min", "1000/hour", "10/s")`;
  const limit = Number(m[1]);
  if (!Number.isSafeInteger(limit) || limit <= 0) return `Invalid rate limit: '${text}'. The number of requests must be a positive integer`;
  if (!(m[2]!.toLowerCase() in UNIT_MS)) return `Invalid rate limit unit: '${m[2]}' in '${text}'. Use one of ${RATE_UNITS.join(', ')}`;
  return undefined;
}

/** Parses a rate string; a malformed one is a ConfigError whose message names the string and the expected shape. */
export function parseRate(text: string): Rate {
  const problem = rateProblem(text);
  if (problem) throw new ConfigError(problem);
  const [count, unit] = text.split('/').map((p) => p.trim());
  return { limit: Number(count), periodMs: UNIT_MS[unit!.toLowerCase()]! };
}
