import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

const LEVELS: Record<string, string> = { critical: 'fatal', warning: 'warn' };

/** uvicorn's level names (`warning`, `critical`) to pino's. */
export function pinoLevel(level: string): string {
  return LEVELS[level] ?? level;
}

/**
 * Seed "log isolation": everything this process writes to stdout or stderr, its own
 * logger's lines and whatever a library prints, goes to `path` instead. The directory
 * is created. Returns the stream so the caller owns closing it.
 */
export function isolateOutput(path: string): WriteStream {
  mkdirSync(dirname(path), { recursive: true });
  const file = createWriteStream(path, { flags: 'a' });
  const write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => file.write(chunk as string, encoding as BufferEncoding, cb as () => void)) as typeof process.stdout.write;
  process.stdout.write = write;
  process.stderr.write = write;
  return file;
}
