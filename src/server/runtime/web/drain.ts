import { Server as NetServer } from 'node:net';
import { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { closeGracefully } from '../close.js';
import { socketDrainOf } from '../adapter/socket-drain.js';

/** How long connections that are idle when a drain starts may still bring one last request. */
export const IDLE_GRACE_MS = 1000;

export interface Drainer {
  /** True once a drain has started. */
  readonly draining: boolean;
  /**
   * Stops accepting, lets every connection finish what it is doing, and resolves once
   * all are gone or `timeout` seconds have passed (then the rest are cut). Closes the
   * Fastify app at the end so its onClose hooks run.
   */
  drain(timeout: number): Promise<void>;
}

/**
 * A drain that loses no request to keep-alive races, for a web process that is being
 * recycled or stopped while other processes keep serving the port.
 *
 * Fastify's own close answers 503 to a request that arrives on an open connection and
 * closes idle keep-alive sockets at once; a client that had just sent its next request
 * on such a socket sees a reset. Here, instead: the listening socket closes first (new
 * connections go to the other workers, or are refused), every response from then on
 * carries `Connection: close`, so each busy connection ends after its current reply,
 * and sockets that are idle get a short grace to bring one last request (served, with
 * `Connection: close`) before they are closed. WebSockets that carry no stream are told
 * 1001 at once; one with a stream in flight is told when the stream ends. Call before
 * `listen()`: it adds hooks.
 */
export function installDrainer(app: FastifyInstance): Drainer {
  let draining = false;
  const open = new Set<ServerResponse>();
  app.addHook('onRequest', (request, reply, done) => {
    const res = reply.raw;
    // HTTP/2 has no per-connection keep-alive to end (GOAWAY does that); only HTTP/1 is tracked.
    if (res instanceof ServerResponse) {
      if (draining) endAfter(res);
      open.add(res);
      res.once('close', () => open.delete(res));
    }
    done();
  });

  return {
    get draining() {
      return draining;
    },
    async drain(timeout: number): Promise<void> {
      if (draining) return;
      draining = true;
      const server = app.server as unknown as NetServer & { closeIdleConnections?: () => void; closeAllConnections?: () => void };
      if (typeof server.closeIdleConnections !== 'function' || !server.listening) {
        // HTTP/2, or never listening: Fastify's close does the right thing there.
        await closeGracefully(app, timeout);
        return;
      }
      for (const res of open) endAfter(res);
      const sockets = socketDrainOf(app);
      void sockets?.begin();
      const allGone = new Promise<void>((resolve) => server.once('close', () => resolve()));
      // net's close, not http's: http.Server#close also closes idle connections at once.
      NetServer.prototype.close.call(server);
      const timers: NodeJS.Timeout[] = [];
      const expired = new Promise<'expired'>((resolve) => timers.push(setTimeout(() => resolve('expired'), Math.max(0, timeout * 1000))));
      timers.push(setTimeout(() => server.closeIdleConnections!(), Math.min(IDLE_GRACE_MS, timeout * 1000)));
      try {
        const first = await Promise.race([allGone.then(() => 'gone' as const), expired]);
        if (first === 'expired') {
          // Busy WebSockets are cut by the app's close below; HTTP ones here.
          sockets?.expire();
          server.closeAllConnections?.();
        }
      } finally {
        for (const t of timers) clearTimeout(t);
      }
      // Nothing is left to serve; this runs the app's onClose hooks (plugins, route modules).
      await app.close();
    },
  };
}

/** This response is the connection's last: Node ends the socket once it is sent. */
function endAfter(res: ServerResponse): void {
  if (!res.headersSent) {
    res.setHeader('connection', 'close');
    res.shouldKeepAlive = false;
  } else {
    // Headers already went out as keep-alive (a stream): end the socket when it is done.
    res.once('finish', () => res.socket?.end());
  }
}
