import { Server as NetServer } from 'node:net';
import { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { socketDrainOf } from './adapters/socket-drain.js';
import { within } from '../../process/within.js';

/** How long connections that are idle when a drain starts may still bring one last request. */
export const IDLE_GRACE_MS = 1000;

export interface DrainOptions {
  /**
   * Milliseconds idle keep-alive connections may still bring one last request (default
   * `IDLE_GRACE_MS`). A web process that shares its port with others keeps it; direct
   * mode, the port's only server, passes 0: nobody else would take the next request.
   */
  idleGrace?: number;
}

export interface Drainer {
  /** True once a drain has started. */
  readonly draining: boolean;
  /** HTTP/1 responses being served now. */
  readonly inFlight: number;
  /**
   * Stops accepting, lets every connection finish what it is doing, and resolves once
   * all are gone or `timeout` seconds have passed (then the rest are cut). Closes the
   * Fastify app at the end so its onClose hooks run. Called again, it waits for the first.
   */
  drain(timeout: number, options?: DrainOptions): Promise<void>;
}

const DRAINER = Symbol.for('appinfra.drainer');

/**
 * The one shutdown path of a web side, direct mode's and a web process's alike, and the
 * one tracker of the responses in flight it needs.
 *
 * Fastify's own close answers 503 to a request that arrives on an open connection and
 * closes idle keep-alive sockets at once; a client that had just sent its next request
 * on such a socket sees a reset, and `close()` only ends connections idle *now*, so one
 * that goes idle later holds the close for its whole keep-alive timeout (fastify#7044).
 * Here, instead: the listening socket closes first (new connections go to the other
 * workers, or are refused), every response from then on carries `Connection: close`,
 * so each busy connection ends after its current reply, and sockets that are idle get a
 * short grace to bring one last request (served, with `Connection: close`) before they
 * are closed. WebSockets that carry no stream are told 1001 at once; one with a stream
 * in flight is told when the stream ends. Installed by `buildApp`, before any route.
 */
export function installDrainer(app: FastifyInstance): Drainer {
  let draining: Promise<void> | undefined;
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

  const drainer: Drainer = {
    get draining() {
      return draining !== undefined;
    },
    get inFlight() {
      return open.size;
    },
    drain(timeout, options = {}) {
      draining ??= drainApp(app, open, timeout, options.idleGrace ?? IDLE_GRACE_MS);
      return draining;
    },
  };
  (app as unknown as Record<symbol, Drainer>)[DRAINER] = drainer;
  return drainer;
}

/** The drainer `buildApp` installed on `app`. */
export function drainerOf(app: FastifyInstance): Drainer {
  const drainer = (app as unknown as Record<symbol, Drainer | undefined>)[DRAINER];
  if (!drainer) throw new Error('drainerOf(app): the app was not built by buildApp');
  return drainer;
}

async function drainApp(app: FastifyInstance, open: Set<ServerResponse>, timeout: number, idleGrace: number): Promise<void> {
  for (const res of open) endAfter(res);
  const sockets = socketDrainOf(app);
  void sockets?.begin();
  const server = app.server as unknown as NetServer & { closeIdleConnections?: () => void; closeAllConnections?: () => void };
  const http1 = typeof server.closeIdleConnections === 'function' && server.listening;
  const timers: NodeJS.Timeout[] = [];
  let gone: Promise<unknown>;
  if (http1) {
    gone = new Promise<void>((resolve) => server.once('close', () => resolve()));
    // net's close, not http's: http.Server#close also closes idle connections at once.
    NetServer.prototype.close.call(server);
    const grace = Math.min(idleGrace, timeout * 1000);
    // Without a grace, now: a connection whose response ends meanwhile is ending its socket,
    // and closing it as idle then would destroy what it has not flushed yet.
    if (grace <= 0) server.closeIdleConnections!();
    else timers.push(setTimeout(() => server.closeIdleConnections!(), grace));
  } else {
    // HTTP/2 (GOAWAY), or never listening: Fastify's close does the right thing there.
    gone = app.close();
  }
  try {
    if (!(await within(gone, timeout * 1000))) {
      // Busy WebSockets are cut by the app's close below; HTTP ones here.
      sockets?.expire();
      server.closeAllConnections?.();
    }
  } finally {
    for (const t of timers) clearTimeout(t);
  }
  // Nothing is left to serve; this runs the app's onClose hooks (plugins, route modules).
  await (http1 ? app.close() : gone);
}

/** This response is the connection's last: Node ends the socket once it is sent. */
function endAfter(res: ServerResponse): void {
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
