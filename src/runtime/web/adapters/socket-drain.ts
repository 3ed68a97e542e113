import type { FastifyInstance } from 'fastify';

/** What a drain needs of one WebSocket: whether it carries work, and how to let it go. */
export interface DrainableSocket {
  /** True while an engine request or stream of this socket is in flight. */
  readonly busy: boolean;
  /** Closes the socket with 1001 (going away). */
  goAway(): void;
}

/**
 * The WebSockets of one app, for a graceful stop. An upgraded socket is invisible to the
 * HTTP server's keep-alive handling, so without this an idle client would hold a drain
 * for its whole timeout. On `begin()` idle sockets are told 1001 at once; a busy one is
 * told when its last stream ends (`settled`), or cut by the app's close when the drain's
 * deadline comes (`expire()`).
 */
export class SocketDrain {
  private readonly sockets = new Set<DrainableSocket>();
  private started = false;
  private release: (() => void) | undefined;
  /** Resolves once a drain began and every socket is gone, or the drain expired. */
  readonly settled: Promise<void>;

  constructor() {
    this.settled = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  get draining(): boolean {
    return this.started;
  }

  add(socket: DrainableSocket): void {
    this.sockets.add(socket);
    // A socket upgraded while the drain runs (on a keep-alive connection) has no work yet.
    if (this.started && !socket.busy) socket.goAway();
  }

  delete(socket: DrainableSocket): void {
    this.sockets.delete(socket);
    if (this.started && this.sockets.size === 0) this.release?.();
  }

  /** A socket's last stream ended: during a drain there is nothing left to keep it for. */
  idle(socket: DrainableSocket): void {
    if (this.started) socket.goAway();
  }

  begin(): Promise<void> {
    if (!this.started) {
      this.started = true;
      for (const s of [...this.sockets]) if (!s.busy) s.goAway();
      if (this.sockets.size === 0) this.release?.();
    }
    return this.settled;
  }

  /** The drain's deadline passed: stop waiting for busy sockets (the app's close cuts them). */
  expire(): void {
    this.release?.();
  }
}

const DRAINS = new WeakMap<object, SocketDrain>();

/** The app's socket registry, shared by every encapsulation context (keyed by the one WebSocket server). */
export function socketDrainOf(app: FastifyInstance): SocketDrain | undefined {
  if (!app.hasDecorator('websocketServer')) return undefined;
  const wss = app.websocketServer as object;
  let drain = DRAINS.get(wss);
  if (!drain) {
    drain = new SocketDrain();
    DRAINS.set(wss, drain);
  }
  return drain;
}
