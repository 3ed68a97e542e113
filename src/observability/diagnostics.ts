/**
 * The framework's boundary events, on `node:diagnostics_channel`, declared in one file (as
 * undici's lib/core/diagnostics.js does). An observer (a metrics exporter, a tracer, a
 * test) subscribes by name without a reference to any framework object:
 *
 *   import { subscribe } from 'node:diagnostics_channel';
 *   subscribe('appinfra:egress', (m) => histogram.record((m as EgressMessage).ms));
 *
 * Publishing costs nothing while no one subscribes (`hasSubscribers` is checked first).
 * Web side (IPCChannel, in each web process): ingress, rejected, egress. Main side
 * (Engine): dispatch, link, and for limited and batching handlers batch, queueWait. Each process publishes its own; a subscriber sees the events
 * of the process it runs in.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Port } from '../contract/envelope.js';

/** A request admitted by a web process and sent to the engine. */
export interface IngressMessage {
  id: string;
  route?: string | undefined;
  port: Port;
  /** The web process that sent it. */
  replyTo: string;
}

/**
 * A request refused at admission (max pending reached, link down) or by an ingress policy
 * (`rate_limit`, `auth_missing`, `auth_refused`, `auth_scope`, `auth_check`,
 * `payload_too_large`): it never reached the engine.
 */
export interface RejectedMessage {
  route?: string | undefined;
  reason: string;
}

/** A request's end as the web process saw it, and how long it took (milliseconds). */
export interface EgressMessage {
  id: string;
  route?: string | undefined;
  outcome: 'ok' | 'error' | 'timeout' | 'cancelled' | 'closed';
  ms: number;
}

/** The engine took a request: to a registered handler, or onto the request queue. */
export interface DispatchMessage {
  id: string;
  route: string | undefined;
  replyTo: string;
  via: 'handler' | 'queue';
}

/** A web process's link to the engine came up or went down; `lost`: requests it had in flight. */
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

export const CHANNEL_NAMES = {
  ingress: 'appinfra:ingress',
  rejected: 'appinfra:rejected',
  egress: 'appinfra:egress',
  dispatch: 'appinfra:dispatch',
  link: 'appinfra:link',
  batch: 'appinfra:batch',
  queueWait: 'appinfra:queue-wait',
} as const;

export interface BoundaryMessages {
  ingress: IngressMessage;
  rejected: RejectedMessage;
  egress: EgressMessage;
  dispatch: DispatchMessage;
  link: LinkMessage;
  batch: BatchMessage;
  queueWait: QueueWaitMessage;
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
} as const satisfies Record<BoundaryEvent, diagnostics.Channel>;

/** Publishes `message` on the event's channel; builds nothing when no one listens (pass a thunk on hot paths). */
export function publish<E extends BoundaryEvent>(event: E, message: BoundaryMessages[E] | (() => BoundaryMessages[E])): void {
  const ch = channels[event];
  if (!ch.hasSubscribers) return;
  ch.publish(typeof message === 'function' ? message() : message);
}
