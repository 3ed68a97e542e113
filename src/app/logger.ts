import { LOG_LEVELS, type LogLevel } from '../contract/log-levels.js';

export { LOG_LEVELS, type LogLevel };

/** Severity per name; the seed's Python names and pino's names both work. */
const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warning: 40, warn: 40, error: 50, critical: 60, fatal: 60, silent: 100 };

export interface Logger {
  readonly level: LogLevel;
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

/**
 * The app's logger: one line per message on stderr, so stdout stays for a tool's
 * output (a route table, a JSON summary) and can be piped.
 */
export function createLogger(name: string, level: LogLevel, write: (line: string) => void): Logger {
  const at = (lvl: LogLevel, message: string): void => {
    if (RANK[lvl] >= RANK[level] && level !== 'silent') write(`[${name}] ${lvl}: ${message}\n`);
  };
  return {
    level,
    debug: (m) => at('debug', m),
    info: (m) => at('info', m),
    warning: (m) => at('warning', m),
    error: (m) => at('error', m),
  };
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}
