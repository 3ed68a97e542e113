import { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { socketDrainOf } from './adapter/socket-drain.js';

const IN_FLIGHT = Symbol.for('appinfra.inFlight');

/**
 * Remembers the responses in progress, so a graceful close can tell their connections
 * to end after the response: `close()` only ends connections that are idle *now*, and a
 * keep-alive connection that goes idle later would hold the close for the whole
 * keep-alive timeout (fastify#7044).
 */
export function trackInFlight(app: FastifyInstance): void {
  const open = new Set<ServerResponse>();
  (app as unknown as Record<symbol, Set<ServerResponse>>)[IN_FLIGHT] = open;
  app.addHook('onRequest', (request, reply, done) => {
    const res = reply.raw;
    // HTTP/2 streams have no per-connection keep-alive to end; only HTTP/1 is tracked.
    if (res instanceof ServerResponse) {
      open.add(res);
      res.once('close', () => open.delete(res));
    }
    done();
  });
}

/** HTTP/1: end each in-flight response's connection once it is sent. */
function endAfterResponse(app: FastifyInstance): void {
  const open = (app as unknown as Record<symbol, Set<ServerResponse> | undefined>)[IN_FLIGHT];
  for (const res of open ?? []) {
    if (!res.headersSent) {
      res.setHeader('connection', 'close');
      res.shouldKeepAlive = false;
    } else {
      // Headers already went out as keep-alive (a stream): end the socket when it is done.
      // Taken now: by the time 'finish' reaches us the response may have let go of it.
      const socket = res.socket;
      res.once('finish', () => socket?.end());
    }
  }
}

/**
 * Graceful close: stop accepting, close idle keep-alive sockets and idle WebSockets at
 * once (Fastify's `forceCloseConnections: 'idle'`; 1001 for a WebSocket), let in-flight
 * requests and WebSocket streams finish (`Connection: close`) for up to `timeout`
 * seconds, then close whatever is left. One timer, cleared on every path.
 */
export async function closeGracefully(app: FastifyInstance, timeout: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  endAfterResponse(app);
  const sockets = socketDrainOf(app);
  void sockets?.begin();
  const closed = app.close();
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), Math.max(0, timeout * 1000));
  });
  try {
    const first = await Promise.race([closed.then(() => 'closed' as const), expired]);
    if (first === 'expired') {
      sockets?.expire();
      app.server.closeAllConnections?.();
      await closed;
    }
  } finally {
    clearTimeout(timer);
  }
}
