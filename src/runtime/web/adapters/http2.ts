import type { Socket } from 'node:net';

/**
 * HTTP/2 through Fastify's own `http2` option. With a TLS key and certificate it is h2
 * negotiated by ALPN, with HTTP/1.1 as the fallback for clients that do not offer h2
 * (and for WebSocket upgrades, which are HTTP/1.1 only). Without TLS it is h2c with
 * prior knowledge: meant for loopback or behind a proxy, and HTTP/1.1 clients cannot
 * connect. Routes and streams need nothing else: `reply.raw` writes and its 'drain'
 * event follow the h2 stream's flow-control window, so SSE backpressure holds.
 */
export function http2Options(https: { key: Buffer; cert: Buffer } | undefined): Record<string, unknown> {
  if (https) return { http2: true, https: { ...https, allowHTTP1: true } };
  // A plain h2 server has no idle HTTP/1 connections to close; Fastify closes its h2
  // sessions on close by itself, and refuses 'idle' here.
  return { http2: true, forceCloseConnections: false };
}

/**
 * Gives an HTTP/2 server the `closeAllConnections()` an HTTP/1 server has, so a graceful
 * close that runs out of time can cut what is left: Fastify's close asks each h2 session
 * to close, and a session with a long stream open (SSE) would otherwise never end. Raw
 * sockets are tracked, so HTTP/1.1 fallback connections are cut too.
 */
export function enableForceClose(server: unknown): void {
  const s = server as { closeAllConnections?: () => void; on(event: 'connection', fn: (socket: Socket) => void): void };
  if (typeof s.closeAllConnections === 'function') return;
  const sockets = new Set<Socket>();
  s.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  s.closeAllConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
}
