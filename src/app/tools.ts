import { BuildError } from '../errors/index.js';
import type { AppBuilder } from './builder.js';
import { Plugin } from './plugin.js';
import { type CmdOptions, type Tool, toolFromFunction, validateTool } from './tool.js';

/** Focused builder for an app's tools and plugins (`builder.tools ... .done()`). */
export class ToolsConfigurer {
  /** @internal */
  readonly _tools: Tool[] = [];
  /** @internal */
  readonly _plugins: Plugin[] = [];
  private readonly names = new Map<string, string>();

  constructor(private readonly parent: AppBuilder) {}

  withTool(tool: Tool): this {
    validateTool(tool, this.names);
    this._tools.push(tool);
    return this;
  }

  /** A tool from a function: `withCmd('greet', (ctx) => { ctx.print('hi'); }, { aliases: ['g'], help: 'Say hi' })`. */
  withCmd(name: string, run: Tool['run'], options: CmdOptions = {}): this {
    return this.withTool(toolFromFunction(name, run, options));
  }

  /** Adds a plugin; its `configure(builder)` runs at `build()`, in the order plugins were added. */
  withPlugin(plugin: Plugin): this {
    const p = plugin as Partial<Plugin> | null;
    if (!p || typeof p !== 'object' || typeof p.configure !== 'function') {
      throw new BuildError('withPlugin(plugin): a plugin has configure(builder), initialize(app) and cleanup(app) methods; extend Plugin');
    }
    if (this._plugins.includes(plugin)) throw new BuildError(`withPlugin: plugin ${plugin.name} was added twice`);
    this._plugins.push(plugin);
    return this;
  }

  done(): AppBuilder {
    return this.parent;
  }
}
