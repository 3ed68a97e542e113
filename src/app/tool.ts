import { BuildError } from '../errors/index.js';
import type { App } from './app.js';
import type { Logger } from './logger.js';

/** An option of a tool, in commander's flag syntax: `'-p, --port <n>'`, `'--json'`. */
export interface ToolOption {
  flags: string;
  help?: string;
  default?: unknown;
  /** Allowed values; anything else is a usage error naming them. */
  choices?: readonly string[];
  /** Turns the raw string into a value; throw to reject it (the message reaches the user). */
  parse?: (value: string) => unknown;
}

/** A positional argument of a tool. */
export interface ToolArgument {
  name: string;
  help?: string;
  /** Default true. */
  required?: boolean;
  /** Takes the rest of the command line as a list. */
  variadic?: boolean;
}

/** What a tool's `run` receives. */
export interface ToolContext {
  readonly app: App;
  /** Positional arguments by name (a variadic one is a list). */
  readonly args: Record<string, unknown>;
  /** The tool's options, camelCased (`--dry-run` -> `dryRun`), standard ones included. */
  readonly options: Record<string, unknown>;
  /** The app's configuration: `withConfig(...)`, replaced by `--config <file>`. */
  readonly config: Record<string, unknown>;
  readonly log: Logger;
  /** Aborts on SIGINT/SIGTERM: a long-running tool stops when it fires. */
  readonly signal: AbortSignal;
  /** Writes to the app's standard output. */
  print(text: string): void;
}

/** The value a tool resolves to: an exit code, or nothing for success. */
export type ToolResult = number | void | undefined;

/**
 * One command of the app (`myapp <name>`): its name, aliases, help, options and
 * what it does. A plain object or a class instance both work.
 */
export interface Tool {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly help?: string;
  readonly options?: readonly ToolOption[];
  readonly arguments?: readonly ToolArgument[];
  run(ctx: ToolContext): ToolResult | Promise<ToolResult>;
}

export interface CmdOptions {
  aliases?: string[];
  help?: string;
  options?: ToolOption[];
  arguments?: ToolArgument[];
}

/** A tool made from a function (`tools.withCmd(name, run, { aliases, help })`). */
export function toolFromFunction(name: string, run: Tool['run'], opts: CmdOptions = {}): Tool {
  if (typeof run !== 'function') throw new BuildError(`withCmd("${name}", run): run must be a function (ctx) => exit code`);
  return { name, run, aliases: opts.aliases ?? [], help: opts.help ?? '', options: opts.options ?? [], arguments: opts.arguments ?? [] };
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** Checks a tool at registration, so a mistake is reported by the builder, not at run time. */
export function validateTool(tool: Tool, taken: Map<string, string>): void {
  if (!tool || typeof tool !== 'object' || typeof tool.run !== 'function') {
    throw new BuildError('withTool(tool): a tool is an object with a name and a run(ctx) method');
  }
  for (const n of [tool.name, ...(tool.aliases ?? [])]) {
    if (typeof n !== 'string' || !NAME.test(n)) {
      throw new BuildError(`Tool name or alias ${JSON.stringify(n)} must be lowercase letters, digits and dashes, starting with a letter`);
    }
    const owner = taken.get(n);
    if (owner !== undefined) {
      throw new BuildError(`Tool "${tool.name}": the name "${n}" is already used by tool "${owner}"; pick another name or alias`);
    }
  }
  for (const n of [tool.name, ...(tool.aliases ?? [])]) taken.set(n, tool.name);
}
