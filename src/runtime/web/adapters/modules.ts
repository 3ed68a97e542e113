import type { FastifyInstance } from 'fastify';
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { IPCChannel } from '../../../channel/channel.js';
import { BuildError } from '../../../errors/index.js';
import type { RouteModule } from '../../../contract/web-spec.js';
import type { InlineRouter } from '../extras.js';

/** Accepts a file URL, an absolute path, or a path relative to the working directory. */
export function moduleHref(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) return url;
  return pathToFileURL(isAbsolute(url) ? url : resolve(url)).href;
}

/**
 * The one place the web side imports user code (route modules, lifecycle callbacks, the
 * auth check): `fail` turns an import error into the caller's own error.
 */
export async function importUserModule(url: string, fail: (err: Error) => Error): Promise<Record<string, unknown>> {
  try {
    return (await import(moduleHref(url))) as Record<string, unknown>;
  } catch (err) {
    throw fail(err as Error);
  }
}

/**
 * Imports a route module in the process that serves HTTP and registers its default
 * export as a Fastify plugin, with `{ ipc, ...options }` as plugin options.
 */
export async function registerModule(app: FastifyInstance, mod: RouteModule, channel: IPCChannel): Promise<void> {
  const loaded = await importUserModule(mod.url, (err) => new BuildError(`Route module ${mod.url} could not be imported: ${err.message}`, 'APPINFRA_ERR_ROUTE_MODULE'));
  const plugin = loaded.default;
  if (typeof plugin !== 'function') {
    throw new BuildError(`Route module ${mod.url} must have a default export: a Fastify plugin (app, { ipc }) => { app.get(...) }`, 'APPINFRA_ERR_ROUTE_MODULE');
  }
  const opts: Record<string, unknown> = { ...(mod.options ?? {}), ipc: channel };
  if (mod.prefix) opts.prefix = mod.prefix;
  await app.register(withTags(plugin as never, mod.tags), opts);
}

/** Wraps a router so every route it declares gets `tags` in the OpenAPI document. */
export function withTags(plugin: InlineRouter['plugin'], tags: string[] | undefined): InlineRouter['plugin'] {
  if (!tags || tags.length === 0) return plugin;
  return async function tagged(instance: FastifyInstance, opts: Record<string, unknown>) {
    instance.addHook('onRoute', (route) => {
      const schema = (route.schema ??= {}) as { tags?: string[] };
      schema.tags = [...new Set([...(schema.tags ?? []), ...tags])];
    });
    // The prefix was applied when this wrapper was registered; passing it on would apply it twice.
    const { prefix: _prefix, ...inner } = opts;
    await instance.register(plugin as never, inner);
  };
}
