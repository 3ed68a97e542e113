/**
 * The framework's boundary events, on `node:diagnostics_channel`, declared in one file (as
 * undici's lib/core/diagnostics.js does). An observer (a metrics exporter, a tracer, a
 * test) subscribes by name without a reference to any framework object:
 *
 *   import { subscribe, tracingChannel } from 'node:diagnostics_channel';
 *   subscribe('appinfra:egress', (m) => histogram.record((m as EgressMessage).ms));
 *   tracingChannel('appinfra:request').subscribe({ start(m) {...}, asyncEnd(m) {...}, error(m) {...} });
 *
 * The names (`CHANNEL_NAMES`, `REQUEST_TRACING`) and message shapes below are public API.
 * Publishing costs nothing while no one subscribes (`hasSubscribers` is checked first, and
 * no message is built). Web side (IPCChannel, in each web process): the `appinfra:request`
 * tracing channel, ingress, rejected, handoff, egress. Main side (Engine): dispatch, link,
 * and for limited and batching handlers batch, queueWait. Each process publishes its own;
 * a subscriber sees the events of the process it runs in.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Port } from '../contract/envelope.js';

/** What every per-request message carries: enough to find the request on both sides. */
export interface RequestRef {
  /** Correlation id: the engine sees the same id, and `ctx.log` lines carry it. */
  id: string;
  /** Engine handler name. */
  route?: string | undefined;
  /** The web process that sent it (seed-000 `reply_to`). */
  replyTo: string;
  /** W3C trace context the request travels with, when it has one. */
  traceparent?: string | undefined;
}

/** `appinfra:ingress`: a request admitted by a web process. */
export interface IngressMessage extends RequestRef {
  port: Port;
}

/**
 * `appinfra:rejected`: a request refused before it reached the engine. `reason` is one of
 * `overloaded` (maxPending reached), `concurrency` (uvicorn.limitConcurrency), `closed` (no link to the engine), `invalid`
 * (a duplicate id, or a request the codec cannot carry); the ingress policies add
 * `rate_limit`, `auth_missing`, `auth_refused`, `auth_scope`, `auth_check` and
 * `payload_too_large`. `id` is absent when none was assigned yet.
 */
export interface RejectedMessage {
  id?: string | undefined;
  route?: string | undefined;
  /** The web process; absent on an ingress policy's refusal (raised before the request meets the channel). */
  replyTo?: string | undefined;
  traceparent?: string | undefined;
  reason: string;
}

/** `appinfra:handoff`: the request left the web process: over which transport, to which process (or group). */
export interface HandoffMessage extends RequestRef {
  transport: string;
  target: string;
}

/** `appinfra:egress`: a request's end as the web process saw it, and how long it took (milliseconds). */
export interface EgressMessage extends RequestRef {
  outcome: 'ok' | 'error' | 'timeout' | 'cancelled' | 'closed';
  /** HTTP-ish status of a failure (the error's); 200 for `ok`. */
  status: number;
  ms: number;
}

/** `appinfra:dispatch`: the engine took a request: to a registered handler, or onto the request queue. */
export interface DispatchMessage {
  id: string;
  route: string | undefined;
  replyTo: string;
  traceparent?: string | undefined;
  via: 'handler' | 'queue';
}

/** `appinfra:link`: a web process's link to the engine came up or went down; `lost`: requests it had in flight. */
export interface LinkMessage {
  replyTo: string;
  up: boolean;
  lost: number;
}

/** A batch handler's call or a step handler's step (`kind`), and how many requests it held. */
export interface BatchMessage {
  handler: string;
  kind: 'batch' | 'steps';
  size: number;
}

/** A request left a limited or batching handler's queue to run, after waiting `ms`. */
export interface QueueWaitMessage {
  handler: string;
  ms: number;
}

/**
 * The context object of the `appinfra:request` tracing channel: one object per request,
 * the same at every event. `start` when it is admitted and sent (the IngressMessage
 * fields), `end` once the send returned, `asyncStart`/`asyncEnd` around the delivery of its
 * last reply (`outcome: 'ok'`), `error` when it ended otherwise (`error`, `outcome`).
 */
export interface RequestTraceContext extends IngressMessage {
  outcome?: EgressMessage['outcome'];
  error?: unknown;
  result?: unknown;
}

export const CHANNEL_NAMES = {
  ingress: 'appinfra:ingress',
  rejected: 'appinfra:rejected',
  egress: 'appinfra:egress',
  dispatch: 'appinfra:dispatch',
  link: 'appinfra:link',
  batch: 'appinfra:batch',
  queueWait: 'appinfra:queue-wait',
  handoff: 'appinfra:handoff',
} as const;

/** The tracing channel's name: its events are `tracing:appinfra:request:start|end|asyncStart|asyncEnd|error`. */
export const REQUEST_TRACING = 'appinfra:request';

export interface BoundaryMessages {
  ingress: IngressMessage;
  rejected: RejectedMessage;
  egress: EgressMessage;
  dispatch: DispatchMessage;
  link: LinkMessage;
  batch: BatchMessage;
  queueWait: QueueWaitMessage;
  handoff: HandoffMessage;
}

export type BoundaryEvent = keyof BoundaryMessages;

/** The channels themselves; Node keeps one per name, so every copy of this module shares them. */
export const channels = {
  ingress: diagnostics.channel(CHANNEL_NAMES.ingress),
  rejected: diagnostics.channel(CHANNEL_NAMES.rejected),
  egress: diagnostics.channel(CHANNEL_NAMES.egress),
  dispatch: diagnostics.channel(CHANNEL_NAMES.dispatch),
  link: diagnostics.channel(CHANNEL_NAMES.link),
  batch: diagnostics.channel(CHANNEL_NAMES.batch),
  queueWait: diagnostics.channel(CHANNEL_NAMES.queueWait),
  handoff: diagnostics.channel(CHANNEL_NAMES.handoff),
} as const satisfies Record<BoundaryEvent, diagnostics.Channel>;

/** The request lifecycle as a TracingChannel (the convention undici and Fastify follow). */
export const requestTracing = diagnostics.tracingChannel<RequestTraceContext>(REQUEST_TRACING);

/** Publishes `message` on the event's channel; builds nothing when no one listens (pass a thunk on hot paths). */
export function publish<E extends BoundaryEvent>(event: E, message: BoundaryMessages[E] | (() => BoundaryMessages[E])): void {
  const ch = channels[event];
  if (!ch.hasSubscribers) return;
  ch.publish(typeof message === 'function' ? message() : message);
}
