import { BuildError } from '../../errors/index.js';
import { HTTP_METHODS, type HttpMethod } from '../../contract/web-spec.js';

/** FastAPI's `{name}` becomes Fastify's `:name`, so a route copied from the seed works. */
export function toFastifyPath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new BuildError(`Route path ${JSON.stringify(path)} must be a string starting with "/"`, 'APPINFRA_ERR_ROUTE');
  }
  const converter = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z]+)\}/.exec(path);
  if (converter) {
    // A `:name` parameter stops at "/", so `{name:path}` would quietly match one segment only.
    const hint = converter[2] === 'path' ? `end the path with "*" instead; the rest of the path is then in params['*']` : 'drop the converter and validate the parameter with the route schema';
    throw new BuildError(`Route path ${JSON.stringify(path)}: the converter "{${converter[1]}:${converter[2]}}" is not supported; ${hint}`, 'APPINFRA_ERR_ROUTE');
  }
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

export function normaliseMethods(methods: readonly string[] | string | undefined, where: string): HttpMethod[] {
  const list = methods === undefined ? ['GET'] : Array.isArray(methods) ? methods : [methods as string];
  if (list.length === 0) throw new BuildError(`${where}: methods must name at least one HTTP method`, 'APPINFRA_ERR_ROUTE');
  return list.map((m) => {
    const up = String(m).toUpperCase();
    if (!(HTTP_METHODS as readonly string[]).includes(up)) {
      throw new BuildError(`${where}: unknown HTTP method ${JSON.stringify(m)}; use one of ${HTTP_METHODS.join(', ')}`, 'APPINFRA_ERR_ROUTE');
    }
    return up as HttpMethod;
  });
}
