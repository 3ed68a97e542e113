import { resolve } from 'node:path';
import { ConfigError } from '../../errors/index.js';
import type { EngineHandler } from '../../engine/context.js';
import { inspectAppFile, readAppFile, type AppFile } from './app-file.js';
import { handlerProblems, importEngineModule, resolverProblems } from './app-engine.js';
import { endpointSchemaProblems } from './schema-check.js';
import { invalid } from '../config/validate.js';

/**
 * Everything `check` and `serve` verify before serving, in one pass: the file's sections,
 * the endpoints' JSON schemas (compiled as the web process will) and the handlers the
 * engine module exports. A problem in one never hides one in another; the schemas and
 * handlers of the endpoints that are valid by themselves are checked even when the file
 * has other problems. Imports the engine module (user code), in this process only.
 */
export async function checkAppFile(path: string): Promise<{ file: AppFile; handlers: Map<string, EngineHandler> }> {
  const found = inspectAppFile(readAppFile(path), resolve(path));
  const problems = [...found.problems, ...(await endpointSchemaProblems(found.endpoints))];
  let handlers: Map<string, EngineHandler> | undefined;
  if (found.engine) {
    handlers = await importEngineModule(found.engine.path, found.engine.asWritten, found.file?.source ?? resolve(path));
    // A grouped handler's code is in its group's module, imported by the group's processes only.
    problems.push(...handlerProblems(handlers, found.endpoints.filter(([, e]) => !found.grouped.has(e.handler)), found.engine.asWritten), ...resolverProblems(handlers, found.graphql, found.engine.asWritten));
  }
  if (problems.length > 0 || !found.file || !handlers) throw new ConfigError(`${path}: ${invalid(problems).message}`, { problems });
  return { file: found.file, handlers };
}
