import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../errors.js';
import type { EngineHandler } from '../../engine/context.js';
import type { AppFile } from './app-file.js';

/**
 * Imports the engine module an app file names, in this (the main) process, and returns
 * its handlers by export name: every exported function, plus the functions of a default
 * export that is a plain object. Endpoints naming a handler it lacks are reported together.
 */
export async function loadEngineModule(file: AppFile): Promise<Map<string, EngineHandler>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file.engineModule).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${file.source}: engine.module ${file.engineModuleAsWritten} could not be imported: ${(err as Error).message}`);
  }
  const handlers = new Map<string, EngineHandler>();
  const dflt = mod.default;
  if (dflt && typeof dflt === 'object' && !Array.isArray(dflt)) {
    for (const [name, value] of Object.entries(dflt as Record<string, unknown>)) {
      if (typeof value === 'function') handlers.set(name, value as EngineHandler);
    }
  }
  for (const [name, value] of Object.entries(mod)) {
    if (name !== 'default' && typeof value === 'function') handlers.set(name, value as EngineHandler);
  }
  const problems: string[] = [];
  file.endpoints.forEach((e, i) => {
    if (!handlers.has(e.handler)) {
      const known = [...handlers.keys()];
      problems.push(
        `endpoints[${i}].handler: got ${JSON.stringify(e.handler)}, expected the name of a function exported by ${file.engineModuleAsWritten} (it exports ${known.length > 0 ? known.join(', ') : 'no functions'})`,
      );
    }
  });
  if (problems.length > 0) throw new ConfigError(`${file.source}: Invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  return handlers;
}
