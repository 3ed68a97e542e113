import type { FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import type { Http2ServerRequest } from 'node:http2';
import type { IPCChannel, Waiter } from '../../../channel/index.js';

const kInFlight = Symbol('appinfra.inFlight');

/**
 * The requests of one HTTP/1 connection waiting for the engine: a keep-alive connection
 * has one at a time (a pipelining client more), so the one is kept in a field and only
 * others in a set; a set that went 0-1-0 per request cost a table re-made each time.
 */
interface InFlight {
  one: Waiter | undefined;
  more: Set<Waiter> | undefined;
}
type Watched = Socket & { [kInFlight]?: InFlight };

/**
 * The one "client gone" path of the HTTP adapters (WEB-08): when the client's connection
 * closes while its request waits for the engine, the request is cancelled and the engine
 * told. HTTP/1 connections get one close listener each, for their lifetime, and a
 * request only joins its socket's record, so a request costs no listener of its own; an
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
  const inFlight = socket[kInFlight] ?? watchSocket(channel, socket);
  if (inFlight.one === undefined) inFlight.one = waiter;
  else (inFlight.more ??= new Set()).add(waiter);
}

/** The request ended: its socket stops watching it. */
export function forget(req: FastifyRequest, waiter: Waiter): void {
  const inFlight = (req.raw.socket as Watched | null)?.[kInFlight];
  if (!inFlight) return;
  if (inFlight.one === waiter) inFlight.one = undefined;
  else inFlight.more?.delete(waiter);
}

// The listeners are made in functions of their own: a closure made in cancelWhenGone would
// keep its scope, and with it the connection's first request (its waiter, request and
// response), alive for as long as the connection is open.
function watchStream(channel: IPCChannel, raw: Http2ServerRequest, waiter: Waiter): void {
  raw.stream.once('close', () => {
    if (!waiter.ended) channel.cancel(waiter);
  });
}

function watchSocket(channel: IPCChannel, socket: Watched): InFlight {
  const watched: InFlight = (socket[kInFlight] = { one: undefined, more: undefined });
  socket.once('close', () => {
    const { one, more } = watched;
    watched.one = watched.more = undefined;
    if (one && !one.ended) channel.cancel(one);
    if (more) for (const w of more) if (!w.ended) channel.cancel(w);
  });
  return watched;
}
