import type { Port } from '../contract/envelope.js';
import type { Logger } from 'pino';

/** What an engine handler knows about the request it serves, whatever protocol it came by. */
export interface EngineContext {
  readonly id: string;
  /** Engine handler name the request was addressed to. */
  readonly route: string | undefined;
  readonly port: Port;
  /** Which web process the answer goes back to. */
  readonly replyTo: string;
  /** Absolute deadline (epoch ms) the web process gave the request. */
  readonly deadline: number | undefined;
  readonly traceparent: string | undefined;
  /** True when the caller consumes a stream of chunks (SSE, WebSocket, ...). */
  readonly isStream: boolean;
  /** Aborts when the client goes away, the deadline passes, or the web process is lost. */
  readonly signal: AbortSignal;
  /**
   * A pino child logger bound to `reqId` (the correlation id) and `traceId`: the web
   * process's access log carries the same two, so one grep finds a request on both sides.
   */
  readonly log: Logger;
  /**
   * Emits one stream chunk. Resolves when the chunk may be followed by another without
   * overrunning the client (credit-based backpressure). After a cancel it resolves and drops.
   */
  send(chunk: unknown): Promise<void>;
}

export type EngineHandler<Req = any, Res = unknown> = (
  request: Req,
  ctx: EngineContext,
) => Res | Promise<Res> | AsyncIterable<unknown>;
