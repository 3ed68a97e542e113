import { relative } from 'node:path';
import Fastify from 'fastify';
import { ConfigError } from '../../errors/index.js';
import { AJV_OPTIONS } from '../../runtime/web/ajv-options.js';
import type { AppFile, Endpoint } from './app-file.js';

/**
 * Compiles every endpoint's JSON schema the way the web process will, so that `check`
 * reports a schema the web process would refuse at start-up (an unknown keyword, a bad
 * `type`, a broken `$ref`) with the endpoint's key path, instead of a failed start.
 */
export async function checkEndpointSchemas(file: AppFile): Promise<void> {
  const problems = await endpointSchemaProblems(file.endpoints.entries());
  if (problems.length) throw new ConfigError(`${relative(process.cwd(), file.source)}: Invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
}

/** The problems of the endpoints' schemas, each with its key path; `endpoints` are [index in the file, endpoint]. */
export async function endpointSchemaProblems(endpoints: Iterable<[number, Endpoint]>): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, e] of endpoints) {
    for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
      const schema = e.schema?.[part];
      if (schema === undefined) continue;
      const app = Fastify({ ajv: AJV_OPTIONS, logger: false });
      app.route({ method: 'POST', url: '/', schema: { [part]: schema }, handler: async () => null });
      try {
        await app.ready();
      } catch (err) {
        const why = (err as Error).message.replace(/^Failed building the validation schema for POST: \/, due to error /, '').replace(/^schema is invalid: /, '');
        problems.push(`endpoints[${i}].schema.${part}: got a schema the validator cannot compile (${why}), expected a JSON Schema (draft-07)`);
      } finally {
        await app.close();
      }
    }
  }
  return problems;
}
