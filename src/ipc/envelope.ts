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
   * On the wire only: the payloads of several `chunk` envelopes of one stream in one frame
   * (see `Codec.chunkBatch`). The receiving link hands them on as separate chunks.
   */
  batch?: unknown[];
  /** Room for signed transports. */
  ts?: number;
  nonce?: string;
  sig?: string;
}
