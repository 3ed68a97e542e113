import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use instead of when `appinfra` is imported: ioredis
 * (only the Redis backbone needs it), yaml (only a configuration file), commander (only an
 * App's command line) cost 113, 50 and 28 ms of loading each on this machine, paid by every
 * program that imports the package and by every process it starts. Types stay static
 * (`import type`); the values come from the returned function.
 */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(name) as T);
}
