import { IPCChannel } from '../../src/channel/channel.js';
import type { Engine } from '../../src/engine/engine.js';
import type { RedisBackboneOptions } from '../../src/ipc/transports/redis/options.js';
import { RedisWebLink } from '../../src/ipc/transports/redis/web-link.js';
import { RedisWorkerLink } from '../../src/ipc/transports/redis/worker-link.js';

export interface LinkPair {
  channel: IPCChannel;
  web: RedisWebLink;
  worker: RedisWorkerLink;
}

/**
 * An engine worker and a web link meeting in Redis, with the web side's channel started:
 * what a worker and a web process each set up, in one test process. Each part is added to
 * `started` as it starts, so the test file's cleanup stops them (in reverse).
 */
export async function linkPair(options: RedisBackboneOptions, engine: Engine, started: { stop(): Promise<void> }[], channel: { maxPending: number; responseTimeout: number }): Promise<LinkPair> {
  const worker = new RedisWorkerLink(options);
  engine.attach(worker, 'backbone');
  await worker.start();
  started.push(worker);
  const web = new RedisWebLink(options, 'web');
  await web.start();
  started.push(web);
  const ch = new IPCChannel({ ...channel, replyTo: web.name }, web);
  await ch.start();
  started.push(ch);
  return { channel: ch, web, worker };
}
