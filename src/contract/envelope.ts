/**
 * One envelope per message, both directions. The same shape travels over every
 * transport (memory, pipe, ...); only the codec that turns it into bytes differs.
 */
export type EnvelopeKind = 'request' | 'response' | 'error' | 'chunk' | 'end' | 'cancel' | 'credit' | 'control';

/** Seed-000 port contracts: adapters bind to these, never to a protocol. */
export type Port = 'request' | 'response' | 'stream' | 'kv_stream';

export interface Envelope {
  kind: EnvelopeKind;
  /** Correlation id: the request's id, echoed by every reply, chunk, credit and cancel. */
  id: string;
  /** Which web process sent the request, so the reply router can send the answer back to it. */
  replyTo?: string;
  port?: Port;
  /** Engine handler name the request is for. */
  route?: string;
  /** Absolute deadline, epoch milliseconds. */
  deadline?: number;
  /** W3C trace context of the ingress span. */
  traceparent?: string;
  /** Requests: true when the caller wants a stream of chunks. */
  stream?: boolean;
  /** Streams: chunks the receiver can take before it returns credit; credit envelopes: how many more. */
  window?: number;
  payload?: unknown;
  /**
   * Replies: the payload travels as JSON text whatever the codec, so the web process can
   * write it into an HTTP body or an SSE event as it came, without parsing it.
   */
  json?: boolean;
  /** Requests: the caller will write the answer as JSON (a JSON or SSE route): reply with `json`. */
  wantJson?: boolean;
  /**
   * Received envelopes only: the payload's bytes as they came off the wire. `payload`
   * decodes them on first read; a JSON route takes `body.bytes` instead when `body.json`.
   */
  body?: WireBody;
  /** Room for signed transports. */
  ts?: number;
  nonce?: string;
  sig?: string;
}

/** A payload as it came off the wire, decoded only if somebody reads the value. */
export interface WireBody {
  readonly bytes: Buffer;
  /** True when `bytes` is JSON text (the json codec, or a reply with `json`). */
  readonly json: boolean;
  /** A forward request with its client's body unparsed (`RawForward`): its head's JSON text, then the body's. */
  readonly forward?: true;
}

/** JSON text of a received payload when it travelled as such; undefined otherwise (decode `payload`). */
export function jsonBytesOf(e: Envelope): Buffer | undefined {
  return e.body?.json ? e.body.bytes : undefined;
}
