import type { FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import type { Http2ServerRequest } from 'node:http2';
import type { IPCChannel, Waiter } from '../../../channel/index.js';

const kInFlight = Symbol('appinfra.inFlight');
type Watched = Socket & { [kInFlight]?: Set<Waiter> };

/**
 * The one "client gone" path of the HTTP adapters (WEB-08): when the client's connection
 * closes while its request waits for the engine, the request is cancelled and the engine
 * told. HTTP/1 connections get one close listener each, for their lifetime, and a
 * request only joins its socket's set, so a request costs no listener of its own; an
 * HTTP/2 stream is its own request and is watched directly.
 */
export function cancelWhenGone(channel: IPCChannel, req: FastifyRequest, waiter: Waiter): void {
  const raw = req.raw;
  if (raw.httpVersionMajor >= 2) {
    watchStream(channel, raw as unknown as Http2ServerRequest, waiter);
    return;
  }
  const socket = raw.socket as Watched | null;
  if (!socket || socket.destroyed) {
    channel.cancel(waiter);
    return;
  }
  (socket[kInFlight] ?? watchSocket(channel, socket)).add(waiter);
}

// The listeners are made in functions of their own: a closure made here would keep this
// function's scope, and with it the connection's first request (its waiter, request and
// response), alive for as long as the connection is open.
function watchStream(channel: IPCChannel, raw: Http2ServerRequest, waiter: Waiter): void {
  raw.stream.once('close', () => {
    if (!waiter.ended) channel.cancel(waiter);
  });
}

function watchSocket(channel: IPCChannel, socket: Watched): Set<Waiter> {
  const watched = (socket[kInFlight] = new Set());
  socket.once('close', () => {
    for (const w of watched) if (!w.ended) channel.cancel(w);
    watched.clear();
  });
  return watched;
}

/** The request ended: its socket stops watching it. */
export function forget(req: FastifyRequest, waiter: Waiter): void {
  (req.raw.socket as Watched | null)?.[kInFlight]?.delete(waiter);
}
