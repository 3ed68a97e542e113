/**
 * A process-group process: the ordinary Engine, serving the handlers a module exports,
 * fed by one signed tcp_local link to the main process's engine. Started by the server
 * (join data and secret over the control channel) or by hand:
 *
 *   node <dist>/runtime/group/entry.js --connect-file <path>
 *
 * where the file (written by the server with `execution_ipc.connect_file`, mode 0600)
 * holds the address, the secret and the group. Nothing secret is read from argv or env.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Engine } from '../../engine/engine.js';
import { connectTcpLocal, joinSettings } from '../../ipc/transports/tcp.js';
import { importEngineModule } from '../../server/cli/app-engine.js';
import { within } from '../../process/within.js';
import type { FromGroup, GroupHello, GroupJoin, ToGroup } from '../../contract/groups.js';

const logger = pino({ name: 'group', level: 'warn' });
let stop = (_timeout: number, code: number): void => process.exit(code);

function tell(msg: FromGroup): void {
  if (process.connected) process.send?.(msg);
}

async function join(j: GroupJoin, spawnId: string | undefined): Promise<void> {
  const modulePath = j.module.startsWith('file:') ? fileURLToPath(j.module) : j.module;
  const exported = await importEngineModule(modulePath, j.module, `process group "${j.group}"`);
  const engine = new Engine(undefined, undefined, pino({ name: `group.${j.group}`, level: 'warn' }));
  const missing = j.handlers.filter((h) => !exported.has(h));
  if (missing.length > 0) {
    throw new Error(`process group "${j.group}": ${j.module} does not export ${missing.join(', ')} (it exports ${[...exported.keys()].join(', ') || 'no functions'})`);
  }
  for (const h of j.handlers) engine.handle(h, exported.get(h)!);
  const hello: GroupHello = { type: 'hello', role: 'group', group: j.group, pid: process.pid, ...(spawnId ? { spawnId } : {}) };
  const link = await connectTcpLocal(joinSettings(j), hello, `group:${j.group}:${process.pid}`, logger);
  let stopping = false;
  stop = (timeout, code) => {
    if (stopping) return;
    stopping = true;
    // In-flight requests finish (their answers still go out); nothing new arrives once the main process stops dispatching.
    void (async () => {
      const idle = new Promise<void>((resolve) => {
        const check = (): void => {
          if (engine.pendingCount === 0 || !link.isOpen) resolve();
          else setTimeout(check, 20).unref();
        };
        check();
      });
      await within(idle, timeout * 1000);
      link.close();
      process.exit(code);
    })();
  };
  engine.attach(link, 'main');
  // The main process is gone (or dropped us): nothing can reach this process any more.
  link.onClose(() => {
    if (!stopping) process.exit(process.connected ? 1 : 0);
  });
}

function fatal(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  tell({ type: 'fatal', message });
  logger.error({ err }, 'group process failed to start');
  process.exit(1);
}

const at = process.argv.indexOf('--connect-file');
if (at >= 0) {
  // Started by hand: the connect file names the group; the secret is in the file, not argv.
  const path = process.argv[at + 1];
  if (!path) fatal(new Error('--connect-file needs a path'));
  const file = JSON.parse(readFileSync(path, 'utf8')) as { groups: Record<string, Omit<GroupJoin, 'group'>> } & Partial<GroupJoin>;
  const gi = process.argv.indexOf('--group');
  const name = gi >= 0 ? process.argv[gi + 1]! : Object.keys(file.groups)[0]!;
  const j = file.groups[name];
  if (!j) fatal(new Error(`--group ${name}: the connect file has ${Object.keys(file.groups).join(', ')}`));
  join({ ...j, group: name }, undefined).catch(fatal);
} else {
  process.on('message', (msg: ToGroup) => {
    if (msg.type === 'init') join(msg.join, msg.spawnId).catch(fatal);
    else if (msg.type === 'drain') stop(msg.timeout, 0);
  });
  // No orphans: the main process is gone (even after kill -9) when its control channel closes.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGINT', () => undefined);
  tell({ type: 'hello' });
}
process.on('SIGTERM', () => stop(5, 0));
