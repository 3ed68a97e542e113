import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppinfraError, ConfigError, StateError } from '../errors/index.js';
import { parseYamlText } from './yaml.js';
import type { AppSpec } from './builder.js';
import { EXIT, exitCodeOf, type HandledSignal } from './exit-codes.js';
import { createLogger, isLogLevel, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
import type { Plugin } from './plugin.js';
import type { Tool, ToolContext } from './tool.js';
import { onStopSignal } from '../process/signals.js';
import { lazyPackage } from '../process/lazy-package.js';

const commander = lazyPackage<typeof import('commander')>('commander');

interface Chosen {
  tool: Tool;
  args: Record<string, unknown>;
  options: Record<string, unknown>;
}

/**
 * A built command-line app (seed `App`). `run(argv)` parses the command line, runs the
 * chosen tool between the plugins' `initialize` and `cleanup`, and resolves to an exit
 * code; it never calls `process.exit` itself (`main()` does).
 */
export class App {
  readonly name: string;
  readonly description: string;
  readonly version: string | undefined;
  private readonly spec: AppSpec;
  private running = false;
  private logger: Logger;
  private cfg: Record<string, unknown> = {};

  constructor(spec: AppSpec) {
    this.spec = spec;
    this.name = spec.name;
    this.description = spec.description;
    this.version = spec.version;
    this.logger = createLogger(spec.name, 'info', spec.io.stderr);
  }

  get tools(): readonly Tool[] {
    return this.spec.tools;
  }

  get plugins(): readonly Plugin[] {
    return this.spec.plugins;
  }

  /** The logger of the current run (its level is `--log-level`). */
  get log(): Logger {
    return this.logger;
  }

  /** The configuration of the current run. */
  get config(): Record<string, unknown> {
    return this.cfg;
  }

  /** Runs the app and exits the process with its exit code. */
  async main(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
    const code = await this.run(argv);
    process.exit(code);
  }

  /** Parses `argv` (without node and the script), runs the chosen tool, resolves to its exit code. */
  async run(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
    if (this.running) throw new StateError(`App "${this.name}" is already running; run() calls cannot overlap`);
    this.running = true;
    try {
      const chosen = await this.parse(argv);
      if (typeof chosen === 'number') return chosen;
      const level = chosen.options.logLevel;
      this.logger = createLogger(this.name, isLogLevel(level) ? level : 'info', this.spec.io.stderr);
      try {
        this.cfg = this.loadConfig(chosen.options.config);
      } catch (err) {
        this.reportError(err);
        return EXIT.USAGE;
      }
      return await this.lifecycle(chosen);
    } finally {
      this.running = false;
    }
  }

  /** Resolves to the chosen tool, or to an exit code when parsing ended the run (help, version, usage error). */
  private async parse(argv: readonly string[]): Promise<Chosen | number> {
    let chosen: Chosen | undefined;
    // A fresh commander program per run: commander keeps parse state on its objects.
    const program = this.program((c) => {
      chosen = c;
    });
    try {
      await program.parseAsync([...argv], { from: 'user' });
    } catch (err) {
      if (!(err instanceof commander().CommanderError)) throw err;
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (!chosen) {
      program.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    return chosen;
  }

  private program(choose: (c: Chosen) => void): Command {
    const io = this.spec.io;
    const { Command, Option, InvalidArgumentError } = commander();
    const program = new Command(this.name)
      .description(this.description)
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .configureHelp({ showGlobalOptions: true })
      .showSuggestionAfterError(true)
      .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info' satisfies LogLevel))
      .addOption(new Option('--config <file>', 'YAML configuration file (replaces the built-in configuration)'));
    if (this.version) program.version(this.version, '-V, --version', 'print the version');
    for (const tool of this.spec.tools) {
      const cmd = program.command(tool.name).description(tool.help ?? '').exitOverride();
      if (tool.aliases && tool.aliases.length > 0) cmd.aliases([...tool.aliases]);
      for (const a of tool.arguments ?? []) {
        const dots = a.variadic ? '...' : '';
        cmd.argument(a.required === false ? `[${a.name}${dots}]` : `<${a.name}${dots}>`, a.help ?? '');
      }
      for (const o of tool.options ?? []) {
        const opt = new Option(o.flags, o.help ?? '');
        if (o.default !== undefined) opt.default(o.default);
        if (o.choices) opt.choices(o.choices);
        if (o.parse) {
          const parse = o.parse;
          opt.argParser((value: string) => {
            try {
              return parse(value);
            } catch (err) {
              // commander reports InvalidArgumentError as a usage error naming the option.
              throw new InvalidArgumentError((err as Error).message);
            }
          });
        }
        cmd.addOption(opt);
      }
      cmd.action((...received: unknown[]) => {
        const command = received[received.length - 1] as Command;
        const args: Record<string, unknown> = {};
        (tool.arguments ?? []).forEach((a, i) => {
          args[a.name] = command.processedArgs[i];
        });
        choose({ tool, args, options: command.optsWithGlobals() });
      });
    }
    return program;
  }

  private loadConfig(path: unknown): Record<string, unknown> {
    const source = typeof path === 'string' ? path : this.spec.config;
    if (source === undefined) return {};
    if (typeof source !== 'string') return { ...source };
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new ConfigError(`${source}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const doc = parseYamlText(text, source) ?? {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${source}: expected a mapping at the top level`);
    return doc as Record<string, unknown>;
  }

  /**
   * initialize (in order) -> tool -> cleanup (reverse), with SIGINT/SIGTERM turned into an
   * abort of the tool followed by the same cleanups. A second signal stops waiting for
   * the tool, a third for the cleanups.
   */
  private async lifecycle(chosen: Chosen): Promise<number> {
    const controller = new AbortController();
    let signalled: HandledSignal | undefined;
    // Each later signal ends the current wait (for the tool, then for the cleanups) without
    // skipping what comes after it.
    let interrupt: (() => void) | undefined;
    const nextSignal = (): Promise<'interrupted'> =>
      new Promise((resolve) => {
        interrupt = () => resolve('interrupted');
      });
    const onSignal = (sig: HandledSignal): void => {
      if (signalled) {
        this.logger.warning(`${sig} again: not waiting any longer`);
        interrupt?.();
        return;
      }
      signalled = sig;
      this.logger.info(`${sig} received, stopping`);
      controller.abort(new Error(`${sig} received`));
    };
    // Listening replaces Node's default (exit at once), so cleanups get their turn.
    const stopListening = onStopSignal(onSignal);
    // A tool may simply wait for the signal with nothing else keeping Node alive; the
    // run is not over until the tool says so, so hold the event loop open meanwhile.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const initialized: Plugin[] = [];
    let code: number = EXIT.OK;
    try {
      for (const plugin of this.spec.plugins) {
        if (signalled) break;
        try {
          await plugin.initialize(this);
          initialized.push(plugin);
        } catch (err) {
          this.reportError(err, `plugin ${plugin.name}: initialize failed`);
          code = EXIT.ERROR;
          break;
        }
      }
      if (code === EXIT.OK && !signalled) {
        const ctx = this.context(chosen, controller.signal);
        const ran = Promise.resolve()
          .then(() => chosen.tool.run(ctx))
          .then(
            (result) => (typeof result === 'number' ? result : EXIT.OK),
            (err: unknown) => {
              if (!signalled) this.reportError(err, `${chosen.tool.name} failed`);
              return EXIT.ERROR;
            },
          );
        const result = await Promise.race([ran, nextSignal()]);
        if (result !== 'interrupted') code = result;
      }
      const cleaned = this.cleanup(initialized);
      if ((await Promise.race([cleaned, nextSignal()])) === EXIT.ERROR && code === EXIT.OK) code = EXIT.ERROR;
    } finally {
      clearInterval(keepAlive);
      stopListening();
    }
    return signalled ? exitCodeOf(signalled) : code;
  }

  private async cleanup(initialized: Plugin[]): Promise<number> {
    let code: number = EXIT.OK;
    for (const plugin of [...initialized].reverse()) {
      try {
        await plugin.cleanup(this);
      } catch (err) {
        this.reportError(err, `plugin ${plugin.name}: cleanup failed`);
        code = EXIT.ERROR;
      }
    }
    return code;
  }

  private context(chosen: Chosen, signal: AbortSignal): ToolContext {
    const out = this.spec.io.stdout;
    return {
      app: this,
      args: chosen.args,
      options: chosen.options,
      config: this.cfg,
      log: this.logger,
      signal,
      print: (text) => out(text.endsWith('\n') ? text : `${text}\n`),
    };
  }

  /** Framework errors carry a message written for the user; anything else also gets its stack at debug level. */
  private reportError(err: unknown, what?: string): void {
    const message = err instanceof Error ? err.message : String(err);
    this.logger.error(what ? `${what}: ${message}` : message);
    if (!(err instanceof AppinfraError) && err instanceof Error && err.stack) this.logger.debug(err.stack);
  }
}
