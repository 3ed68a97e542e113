import type { Redis, RedisOptions } from 'ioredis';
import { lazyPackage } from '../../../process/lazy-package.js';

const ioredis = lazyPackage<typeof import('ioredis')>('ioredis');

/**
 * An ioredis connection for the backbone. Commands fail at once while Redis is down
 * (no offline queue): a request must end with a clear 503 rather than wait in a client
 * buffer. No auto-pipelining: the links batch their own commands (./batch.ts). ioredis reconnects by itself, with a capped backoff; `ready` means usable again.
 */
export function backboneConnection(url: string, password: string | undefined, name: string, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    lazyConnect: true,
    ...extra,
  };
  if (password !== undefined) options.password = password;
  const redis = new (ioredis().Redis)(url, options);
  // Connection errors are reported through status and `close`; without a listener ioredis logs each retry.
  redis.on('error', () => undefined);
  return redis;
}

/** Resolves once the connection is usable; rejects if it closes for good first. */
export function whenReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ok = (): void => {
      redis.off('end', gone);
      resolve();
    };
    const gone = (): void => {
      redis.off('ready', ok);
      reject(new Error('redis connection ended'));
    };
    redis.once('ready', ok);
    redis.once('end', gone);
  });
}

/**
 * Closes connections and resolves once their sockets are gone: ioredis's disconnect() ends
 * the socket and arms a 2 s timer that only the socket's close clears.
 */
export async function closeConnections(...conns: Redis[]): Promise<void> {
  await Promise.all(
    conns.map((r) => {
      if (r.status === 'end') return undefined;
      // Never connected: nothing to wait for.
      if (r.status === 'wait') {
        r.disconnect();
        return undefined;
      }
      const ended = new Promise<void>((resolve) => r.once('end', () => resolve()));
      r.disconnect();
      return ended;
    }),
  );
}

/** XREAD / XREADGROUP replies (buffers): [[key, [[id, fields[]], ...]], ...]. */
export type StreamReply = [Buffer, [Buffer, Buffer[]][]][] | null;
