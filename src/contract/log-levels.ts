/**
 * Log level names as the seed writes them (uvicorn's `warning`, `critical`) and as pino
 * does: the web spec carries one, and both processes turn it into a pino level.
 */
export const LOG_LEVELS = ['critical', 'error', 'warning', 'info', 'debug', 'trace', 'fatal', 'warn', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const PINO: Record<string, string> = { critical: 'fatal', warning: 'warn' };

/** uvicorn's level names (`warning`, `critical`) to pino's. */
export function pinoLevel(level: string): string {
  return PINO[level] ?? level;
}
