import type { Envelope } from '../contract/envelope.js';
import type { AppinfraError } from '../errors/index.js';
import type { Timed } from './deadlines.js';
import type { RequestTraceContext } from '../observability/diagnostics.js';

/**
 * One request awaiting the engine, from admission to its end. It ends exactly once
 * (reply, error, timeout, client gone, channel closed) through the channel, which removes
 * it from the table and from the deadline list at that moment, so nothing of it outlives
 * its end. Each consumer is a subclass: a promise (`submit`), an async iterator
 * (`submitStreaming`), or an adapter writing straight into an HTTP response. There is no
 * closure, timer or listener per request.
 */
export abstract class Waiter implements Timed {
  id = '';
  /** Its place in the channel's table of requests in flight (owned by `SeqTable`). */
  slot = -1;
  route: string | undefined;
  /** performance.now() at admission: the egress event's duration. */
  started = 0;
  deadline = 0;
  timeoutMs = 0;
  queued = 0;
  timedList: unknown = undefined;
  timedPrev: Timed | undefined = undefined;
  timedNext: Timed | undefined = undefined;
  /** The W3C trace context it was sent with (observability messages carry it). */
  traceparent: string | undefined;
  /** The `appinfra:request` tracing context, only while someone subscribes to it. */
  trace: RequestTraceContext | undefined;
  /** Set by the channel when the waiter ends; a late envelope for it is dropped. */
  ended = false;

  /**
   * A reply envelope for this request: `chunk`, or its last (`response` or `end`, after
   * which `ended` is already true); errors go to `failed`.
   */
  abstract receive(e: Envelope): void;

  /** The request ended with an error (engine error, timeout, client gone, channel closed). */
  abstract failed(err: AppinfraError): void;

  /** For streams: how many chunks the engine may send before it waits for credit (0: not a stream). */
  get window(): number {
    return 0;
  }
}
