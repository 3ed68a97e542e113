import { fileURLToPath } from 'node:url';
import type { GroupSpec } from '../../contract/groups.js';
import type { Engine } from '../../engine/engine.js';
import type { EngineHandler } from '../../engine/context.js';
import { StateError } from '../../errors/index.js';
import type { Backbone } from './backbone.js';

/** A module's exported functions by name (`server/cli/app-engine.ts`, handed in by the builder). */
export type ImportHandlers = (path: string, asWritten: string, source: string) => Promise<Map<string, EngineHandler>>;

/** Handler -> process group, for the web processes: a grouped handler's requests go to its group's stream. */
export function groupRouting(groups: readonly GroupSpec[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const g of groups) for (const h of g.handlers) out[h] = g.name;
  return out;
}

/**
 * The backbone workers of this process, by role: `engine` serves the handlers in no group;
 * `all` also serves each group's stream, relayed by its engine to the group's local
 * processes; `group:NAME` imports that group's module and serves its stream alone.
 */
export async function startBackboneWorkers(backbone: Backbone, engine: Engine, groups: readonly GroupSpec[], importHandlers: ImportHandlers | undefined): Promise<void> {
  const name = backbone.group;
  if (name !== undefined) {
    if (!importHandlers) throw new StateError(`--role group:${name}: this server was built without a module loader`);
    const g = groups.find((x) => x.name === name);
    if (!g) throw new StateError(`--role group:${name}: no process group "${name}" with a module (the groups: ${groups.map((x) => x.name).join(', ') || 'none'})`);
    const modulePath = g.module.startsWith('file:') ? fileURLToPath(g.module) : g.module;
    const exported = await importHandlers(modulePath, g.module, `process group "${name}"`);
    const missing = g.handlers.filter((h) => !exported.has(h));
    if (missing.length > 0) throw new StateError(`process group "${name}": ${g.module} does not export ${missing.join(', ')}`);
    for (const h of g.handlers) engine.handle(h, exported.get(h)!);
    await backbone.startWorker(engine, name);
    return;
  }
  if (!backbone.runsEngine) return;
  await backbone.startWorker(engine);
  if (backbone.role === 'all') for (const g of groups) await backbone.startWorker(engine, g.name);
}
