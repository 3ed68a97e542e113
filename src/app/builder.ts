import { BuildError } from '../errors/index.js';
import { App } from './app.js';
import { ToolsConfigurer } from './tools.js';

export interface AppIO {
  /** Where tools print and help goes (default process.stdout). */
  stdout?: (text: string) => void;
  /** Where logs and errors go (default process.stderr). */
  stderr?: (text: string) => void;
}

/** @internal What `AppBuilder.build()` hands to the App. */
export interface AppSpec {
  name: string;
  description: string;
  version: string | undefined;
  /** A config object, or the path of a YAML file read when the app runs. */
  config: Record<string, unknown> | string | undefined;
  tools: ToolsConfigurer['_tools'];
  plugins: ToolsConfigurer['_plugins'];
  io: Required<AppIO>;
}

/**
 * Fluent builder for a command-line app (seed `AppBuilder`): `myapp <tool> [options]`,
 * with `--help` for the app and each tool, and the standard options `--log-level` and
 * `--config`.
 */
export class AppBuilder {
  private description = '';
  private version: string | undefined;
  private config: AppSpec['config'];
  private io: AppIO = {};
  private built = false;
  private readonly toolsConfigurer = new ToolsConfigurer(this);

  constructor(readonly name: string) {
    if (typeof name !== 'string' || name.trim() === '') throw new BuildError('AppBuilder(name): name must be a non-empty string');
  }

  withDescription(description: string): this {
    this.description = description;
    return this;
  }

  /** Enables `--version`. */
  withVersion(version: string): this {
    this.version = version;
    return this;
  }

  /** The config tools receive as `ctx.config`: an object, or a YAML file path read at run time. `--config <file>` replaces it. */
  withConfig(config: Record<string, unknown> | string): this {
    if (typeof config !== 'string' && (config === null || typeof config !== 'object' || Array.isArray(config))) {
      throw new BuildError('withConfig(config): pass a mapping or the path of a YAML file');
    }
    this.config = config;
    return this;
  }

  /** Where output goes; tests and embedders capture it here. */
  withIO(io: AppIO): this {
    this.io = { ...this.io, ...io };
    return this;
  }

  get tools(): ToolsConfigurer {
    return this.toolsConfigurer;
  }

  /** Lets each plugin configure the builder (in order), then checks there is something to run. */
  build(): App {
    if (this.built) throw new BuildError('AppBuilder.build(): already built; create a new AppBuilder for another app');
    this.built = true;
    const t = this.toolsConfigurer;
    for (const plugin of t._plugins) {
      try {
        plugin.configure(this);
      } catch (err) {
        if (err instanceof BuildError) throw err;
        throw new BuildError(`Plugin ${plugin.name}: configure(builder) failed: ${(err as Error).message}`);
      }
    }
    if (t._tools.length === 0) throw new BuildError(`AppBuilder("${this.name}"): no tools; add one with .tools.withTool(tool) or .withCmd(name, run)`);
    return new App({
      name: this.name,
      description: this.description,
      version: this.version,
      config: this.config,
      tools: [...t._tools],
      plugins: [...t._plugins],
      io: {
        stdout: this.io.stdout ?? ((s) => void process.stdout.write(s)),
        stderr: this.io.stderr ?? ((s) => void process.stderr.write(s)),
      },
    });
  }
}
