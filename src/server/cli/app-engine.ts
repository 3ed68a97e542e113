import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../errors/index.js';
import type { EngineHandler } from '../../engine/context.js';
import type { AppFile, Endpoint, GraphQLInterface } from './app-file.js';

/**
 * Imports the engine module an app file names, in this (the main) process, and returns
 * its handlers by export name: every exported function, plus the functions of a default
 * export that is a plain object. Endpoints naming a handler it lacks are reported together.
 */
export async function loadEngineModule(file: AppFile): Promise<Map<string, EngineHandler>> {
  const handlers = await importEngineModule(file.engineModule, file.engineModuleAsWritten, file.source);
  const problems = [...handlerProblems(handlers, file.endpoints.entries(), file.engineModuleAsWritten), ...resolverProblems(handlers, file.graphql, file.engineModuleAsWritten)];
  for (const name of Object.keys(file.handlerSettings ?? {})) {
    if (!handlers.has(name)) problems.push(`engine.handlers.${name}: got settings for "${name}", expected the name of a function exported by ${file.engineModuleAsWritten}`);
  }
  if (problems.length > 0) throw new ConfigError(`${file.source}: Invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  return handlers;
}

/** The module's handlers by export name; `asWritten` and `source` are for the message when it does not import. */
export async function importEngineModule(path: string, asWritten: string, source: string): Promise<Map<string, EngineHandler>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${source}: engine.module ${asWritten} could not be imported: ${(err as Error).message}`, undefined, 'APPINFRA_ERR_ENGINE_MODULE');
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
  return handlers;
}

/** One problem per endpoint naming a handler the module does not export; `endpoints` are [index in the file, endpoint]. */
export function handlerProblems(handlers: ReadonlyMap<string, EngineHandler>, endpoints: Iterable<[number, Endpoint]>, asWritten: string): string[] {
  const problems: string[] = [];
  const known = [...handlers.keys()];
  for (const [i, e] of endpoints) {
    if (!handlers.has(e.handler)) {
      problems.push(`endpoints[${i}].handler: got ${JSON.stringify(e.handler)}, expected the name of a function exported by ${asWritten} (it exports ${known.length > 0 ? known.join(', ') : 'no functions'})`);
    }
  }
  return problems;
}

/** One problem per GraphQL field whose engine handler the module does not export. */
export function resolverProblems(handlers: ReadonlyMap<string, EngineHandler>, graphql: GraphQLInterface | undefined, asWritten: string): string[] {
  const problems: string[] = [];
  for (const [type, fields] of Object.entries(graphql?.resolvers ?? {})) {
    for (const [field, handler] of Object.entries(fields)) {
      if (!handlers.has(handler)) problems.push(`runtime.web.interfaces (graphql).resolvers.${type}.${field}: got ${JSON.stringify(handler)}, expected the name of a function exported by ${asWritten}`);
    }
  }
  return problems;
}
