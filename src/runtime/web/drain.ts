import { Server as NetServer, type Socket } from 'node:net';
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
  const connections = trackConnections(app.server as unknown as NetServer);
  const drainer: Drainer = {
    get draining() {
      return draining !== undefined;
    },
    get inFlight() {
      let n = 0;
      for (const socket of connections) if (responseOf(socket)) n++;
      return n;
    },
    drain(timeout, options = {}) {
      draining ??= drainApp(app, connections, timeout, options.idleGrace ?? IDLE_GRACE_MS);
      return draining;
    },
  };
  (app as unknown as Record<symbol, Drainer>)[DRAINER] = drainer;
  return drainer;
}

/**
 * The server's open connections, kept per connection rather than per request: a hook and
 * a close listener on every response cost about 5% of a web process's throughput on a
 * small JSON route. A TLS server's requests arrive on its TLS sockets, hence the event.
 */
function trackConnections(server: NetServer): Set<Socket> {
  const connections = new Set<Socket>();
  // A TLS server (the only kind with a secure context) hands over its sockets once the handshake is done;
  // asked of the object rather than by `instanceof`, which would load node:tls at every start.
  server.on('setSecureContext' in server ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  return connections;
}

/**
 * The HTTP/1 response a connection is serving now. Node keeps it on the socket from the
 * request's arrival until the response is finished (an HTTP/2 session never has one).
 */
function responseOf(socket: Socket): ServerResponse | undefined {
  const res = (socket as Socket & { _httpMessage?: unknown })._httpMessage;
  return res instanceof ServerResponse ? res : undefined;
}

/** The drainer `buildApp` installed on `app`. */
export function drainerOf(app: FastifyInstance): Drainer {
  const drainer = (app as unknown as Record<symbol, Drainer | undefined>)[DRAINER];
  if (!drainer) throw new Error('drainerOf(app): the app was not built by buildApp');
  return drainer;
}

async function drainApp(app: FastifyInstance, connections: Set<Socket>, timeout: number, idleGrace: number): Promise<void> {
  for (const socket of connections) {
    const res = responseOf(socket);
    if (res) endAfter(res);
  }
  // A request that comes on an open connection from now on is its connection's last.
  // First in line, so even a response Fastify completes synchronously is marked in time.
  app.server.prependListener('request', (_req: unknown, res: unknown) => {
    if (res instanceof ServerResponse) endAfter(res);
  });
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
