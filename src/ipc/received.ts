import sjson from 'secure-json-parse';
import type { Envelope, EnvelopeKind, Port, WireBody } from '../contract/envelope.js';
import { InvalidJsonBodyError } from '../errors/index.js';
import type { Codec } from './codecs/index.js';

/** Node's Buffer methods for UTF-8 without the encoding switch of `write` and `toString`. */
export type Utf8Buffer = Buffer & { utf8Write(s: string, offset: number, max?: number): number; utf8Slice(start: number, end: number): string };

/**
 * The same envelope under another id, for a relay: an envelope that came off the wire
 * keeps its payload bytes (written again as they came), any other is copied.
 */
export function withId(e: Envelope, id: string): Envelope {
  return e instanceof ReceivedEnvelope ? e.withId(id) : { ...e, id };
}

/**
 * An envelope off the wire whose payload is decoded on first read: a JSON route in the
 * web process takes `body.bytes` and never pays for the value.
 */
export class ReceivedEnvelope implements Envelope {
  // The header's optional fields (route, deadline, ...) are set by decodeFrame when present.
  replyTo?: string;
  port?: Port;
  route?: string;
  deadline?: number;
  traceparent?: string;
  stream?: boolean;
  window?: number;
  wantJson?: boolean;
  ts?: number;
  nonce?: string;
  sig?: string;
  body?: WireBody;
  private decoded = false;
  private value: unknown;

  constructor(
    readonly kind: EnvelopeKind,
    readonly id: string,
    private readonly codec: Codec,
  ) {}

  /** True when the payload may be written as the bytes that came: unread, and JSON text or this codec's own bytes. */
  passThrough(codec: Codec): boolean {
    return !this.decoded && this.body !== undefined && (this.body.json || this.body.forward === true || this.codec.name === codec.name);
  }

  /** A copy under another id (a relay's), carrying the same bytes. */
  withId(id: string): ReceivedEnvelope {
    const copy = Object.assign(new ReceivedEnvelope(this.kind, id, this.codec), this) as ReceivedEnvelope;
    (copy as { id: string }).id = id;
    return copy;
  }

  get json(): boolean {
    return this.body?.json === true;
  }

  get payload(): unknown {
    if (!this.decoded) {
      this.decoded = true;
      const body = this.body;
      if (body) this.value = body.forward ? rawForward(body.bytes as Utf8Buffer) : body.json ? JSON.parse((body.bytes as Utf8Buffer).utf8Slice(0, body.bytes.length)) : this.codec.decode(body.bytes);
    }
    return this.value;
  }
}

/** Fastify's defaults for a JSON body: a prototype or constructor key is refused, not stripped. */
const CLIENT_JSON = { protoAction: 'error', constructorAction: 'error' } as const;

/** A `RawForward`'s request: the head as the web process wrote it, the body checked as the client's bytes it is. */
function rawForward(bytes: Utf8Buffer): Record<string, unknown> {
  if (bytes.length < 4) throw new Error('raw forward payload shorter than its head length');
  const headEnd = 4 + bytes.readUInt32BE(0);
  if (headEnd > bytes.length) throw new Error('raw forward head runs past the end of the payload');
  const request = JSON.parse(bytes.utf8Slice(4, headEnd)) as unknown;
  if (!request || typeof request !== 'object' || Array.isArray(request)) throw new Error('raw forward head is not an object');
  const text = bytes.utf8Slice(headEnd, bytes.length);
  let body: unknown;
  try {
    // An empty body never gets here: the web process answers it as Fastify does.
    body = sjson.parse(text, undefined, CLIENT_JSON);
  } catch {
    throw new InvalidJsonBodyError();
  }
  (request as Record<string, unknown>).body = body;
  return request as Record<string, unknown>;
}
