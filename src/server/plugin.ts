import { Plugin } from '../app/plugin.js';
import type { App } from '../app/app.js';
import type { AppBuilder } from '../app/builder.js';
import type { Tool, ToolContext } from '../app/tool.js';
import { BuildError } from '../errors/index.js';
import { DEFAULT_STOP_TIMEOUT_S } from '../process/signals.js';
import type { Server } from '../runtime/main/server.js';

export interface ServerPluginOptions {
  /** Default `serve`. */
  toolName?: string;
  /** Default `Start the HTTP server`. */
  toolHelp?: string;
  /** Seconds in-flight requests get to finish when the app stops (default 5). */
  stopTimeout?: number;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('expected a port number 0..65535 (0 picks a free port)');
  return n;
}

/**
 * Adds a tool (default `serve`) to an AppBuilder app that starts `server` and blocks
 * until SIGINT/SIGTERM; its cleanup stops the server (seed `ServerPlugin`).
 */
export class ServerPlugin extends Plugin {
  readonly toolName: string;
  readonly toolHelp: string;
  private readonly stopTimeout: number;

  constructor(
    readonly server: Server,
    options: ServerPluginOptions = {},
  ) {
    super();
    if (!server || typeof server.listen !== 'function') throw new BuildError('ServerPlugin(server): pass the Server that ServerBuilder.build() returned');
    this.toolName = options.toolName ?? 'serve';
    this.toolHelp = options.toolHelp ?? 'Start the HTTP server';
    this.stopTimeout = options.stopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
  }

  override configure(builder: AppBuilder): void {
    const tool: Tool = {
      name: this.toolName,
      help: this.toolHelp,
      options: [
        { flags: '--host <host>', help: `interface to bind (default ${this.server.config.host})` },
        { flags: '--port <port>', help: `port to listen on, 0 for a free one (default ${this.server.config.port})`, parse: parsePort },
      ],
      run: (ctx) => this.serve(ctx),
    };
    builder.tools.withTool(tool);
  }

  /** Stops the server if the serve tool started it; a no-op for any other tool. */
  override async cleanup(_app: App): Promise<void> {
    // A stop already under way (the first signal's) still has requests to drain: a second
    // signal, such as npm's forwarded copy of a terminal's Ctrl-C, must not cut it short.
    if (this.server.isRunning) await this.server.stop(this.stopTimeout);
    else await this.server.waitStopped();
  }

  private async serve(ctx: ToolContext): Promise<number> {
    const { host, port } = ctx.options as { host?: string; port?: number };
    // The config object is what listen() reads, so command-line overrides go there.
    if (host !== undefined) this.server.config.host = host;
    if (port !== undefined) this.server.config.port = port;
    if (ctx.signal.aborted) return 0;
    const address = await this.server.listen();
    const mode = this.server.isSubprocessMode ? `subprocess mode, web pid ${this.server.processes.map((p) => p.pid).join(',')}` : 'direct mode';
    ctx.print(`${this.server.name} listening on ${address.url} (${mode}, engine pid ${process.pid})`);
    // Stop on the app's signal; the plugin's cleanup would too, but doing it here lets
    // this tool return as soon as the server has drained.
    const onAbort = (): void => void this.server.stop(this.stopTimeout);
    // A signal that came while starting has already fired its event: act on it now.
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.server.waitStopped();
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return 0;
  }
}
