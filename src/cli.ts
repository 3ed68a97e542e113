#!/usr/bin/env node
/**
 * `appinfra`: serves an API described by a YAML file, with no app code of its own.
 *
 *   appinfra serve app.yaml    build everything from the file and serve until SIGINT/SIGTERM
 *   appinfra check app.yaml    validate the file (and the engine module's handlers)
 *   appinfra routes app.yaml   print the route table
 */
import { readFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { AppBuilder } from './app/builder.js';
import type { ToolContext } from './app/tool.js';
import { ListenError, StateError } from './errors/index.js';
import { contractSummary, loadAppFile, routeTable, type RouteRow } from './server/cli/app-file.js';
import { checkAppFile } from './server/cli/app-check.js';
import { serverFromFile } from './server/from-file.js';
import { BACKBONE_OPTIONS, backboneOverrides, type BackboneFlags } from './server/cli/backbone-flags.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const fileArg = [{ name: 'file', help: 'the app file (YAML): engine module, endpoints, runtime contract' }];
const jsonOption = { flags: '--json', help: 'print JSON instead of text' };

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('expected a port number 0..65535 (0 picks a free one)');
  return n;
}

async function serve(ctx: ToolContext): Promise<number> {
  const { file, handlers } = await checkAppFile(ctx.args.file as string);
  const { host, port, role, redisUrl, redisPasswordFile, secretFile } = ctx.options as { host?: string; port?: number } & BackboneFlags;
  if (host !== undefined) file.api.host = host;
  if (port !== undefined) file.api.port = port;
  const backbone = backboneOverrides(file, { role, redisUrl, redisPasswordFile, secretFile });
  const server = serverFromFile(file, handlers, backbone);
  ctx.print(`contract:\n${indent(toYaml(contractSummary(file, [...handlers.keys()])))}`);
  let address: Awaited<ReturnType<typeof server.listen>>;
  try {
    address = await server.listen();
  } catch (err) {
    throw listenFailure(err) ?? err;
  }
  const web = server.processes.map((p) => p.pid).join(',');
  if (backbone.role === 'engine') ctx.print(`${file.name} engine worker on the Redis backbone (pid ${process.pid}), no HTTP in this process`);
  else if (backbone.role?.startsWith('group:')) ctx.print(`${file.name} process group "${backbone.role.slice(6)}" worker on the Redis backbone (pid ${process.pid}), no HTTP in this process`);
  else ctx.print(`${file.name} listening on ${address.url} (${file.mode} mode${web ? `, web pid ${web}` : ''}, engine pid ${process.pid})`);
  const stop = (): void => void server.stop();
  // A signal that came while starting has already fired its event: act on it now.
  if (ctx.signal.aborted) stop();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    await server.waitStopped();
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
  return 0;
}

/** A bind failure in the words of this command line: the library's own hint names the builder's withPort. */
function listenFailure(err: unknown): StateError | undefined {
  const sys = err as NodeJS.ErrnoException & { address?: string; port?: number };
  // Subprocess mode probes the port and raises ListenError; direct mode gets Node's own listen error.
  const at = err instanceof ListenError ? { host: err.host, port: err.port, code: err.reason } : sys?.syscall === 'listen' && sys.code ? { host: sys.address, port: sys.port, code: sys.code } : undefined;
  if (!at) return undefined;
  const why = LISTEN_REASONS[at.code] ?? at.code;
  const hint = at.code === 'EADDRNOTAVAIL' ? 'choose an address of this machine with --host' : 'choose another port with --port <n>, or --port 0 for a free one';
  return new StateError(`cannot listen on ${at.host}:${at.port}: ${why}; ${hint}`);
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is in use (EADDRINUSE)',
  EACCES: 'permission denied (EACCES; ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the host is not an address of this machine (EADDRNOTAVAIL)',
};

async function check(ctx: ToolContext): Promise<number> {
  // Imports the engine module: the only way to know its handlers exist. It runs here, in
  // the process that would be the engine, never in a web process.
  const { file, handlers } = await checkAppFile(ctx.args.file as string);
  const summary = contractSummary(file, [...handlers.keys()]);
  if (ctx.options.json) ctx.print(JSON.stringify({ ok: true, contract: summary }, null, 2));
  else ctx.print(`ok: ${ctx.args.file as string} is valid\ncontract:\n${indent(toYaml(summary))}`);
  return 0;
}

function routes(ctx: ToolContext): number {
  const rows = routeTable(loadAppFile(ctx.args.file as string));
  ctx.print(ctx.options.json ? JSON.stringify(rows, null, 2) : table(rows));
  return 0;
}

function table(rows: RouteRow[]): string {
  const head: RouteRow = { methods: 'METHODS', path: 'PATH', kind: 'KIND', port: 'PORT', handler: 'HANDLER', timeout: 'TIMEOUT' };
  const cols = Object.keys(head) as (keyof RouteRow)[];
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))]));
  return [head, ...rows].map((r) => cols.map((c) => r[c].padEnd(width[c]!)).join('  ').trimEnd()).join('\n');
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

const app = new AppBuilder('appinfra')
  .withDescription('Serve an HTTP API described by a YAML file: endpoints as configuration, handlers from an engine module.')
  .withVersion(pkg.version)
  .tools.withCmd('serve', serve, {
    help: 'Build the server from the file and serve until SIGINT/SIGTERM',
    arguments: fileArg,
    options: [
      { flags: '--host <host>', help: 'interface to bind (overrides api.host)' },
      { flags: '--port <port>', help: 'port, 0 for a free one (overrides api.port)', parse: parsePort },
      ...BACKBONE_OPTIONS,
    ],
  })
  .withCmd('check', check, { aliases: ['validate'], help: 'Validate the file and the engine handlers it names; print the normalised contract', arguments: fileArg, options: [jsonOption] })
  .withCmd('routes', routes, { help: 'Print the route table', arguments: fileArg, options: [jsonOption] })
  .done()
  .build();

await app.main();
