/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/): the
 * envelope carries one across the process boundary, and the HTTP response carries the
 * server span's back (`traceparent`, and Level 2's `traceresponse`). Parsing is strict
 * (untrusted header bytes): a value that is not version 00 with non-zero ids is ignored.
 */
import type { SpanContext } from '@opentelemetry/api';

/** W3C trace context's `sampled` flag (the API's `TraceFlags.SAMPLED`): the only flag carried on. */
const SAMPLED = 0x01;
/** An id of zeros is invalid (W3C trace context, and the API's `isSpanContextValid`). */
const ZEROS = /^0+$/;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span context a `traceparent` value names, or undefined when it is malformed. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined || value.length < 55 || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is invalid; version 00 has nothing after the flags (later versions may).
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const sc: SpanContext = { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) & SAMPLED, isRemote: true };
  return ZEROS.test(traceId!) || ZEROS.test(spanId!) ? undefined : sc;
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & SAMPLED}`;
}

/** The trace id of a `traceparent` value, for log lines; undefined when there is none. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}
