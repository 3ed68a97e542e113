import type { Envelope, EnvelopeKind, WireBody } from '../contract/envelope.js';
import { EncodeError } from '../errors/index.js';
import type { Codec } from './codecs/index.js';
import { HEADER_BYTES } from './framing.js';

/**
 * The bytes of one envelope on a stream transport, after the 4-byte length prefix:
 *
 *   u8 kind | u8 flags | u16 id length | id (utf8)
 *   [flags & META]    u32 meta length | meta: the other envelope fields, as JSON
 *   [flags & PAYLOAD] the payload: the codec's bytes, or JSON text when flags & JSON
 *
 * The envelope's fields are the framework's own (strings and numbers), so they always
 * travel as a small JSON object and the codec sees only the user's value. A reply whose
 * payload is JSON text reaches the web process as bytes it can write into an HTTP body
 * or an SSE event unparsed: the engine encodes a reply once, and nobody decodes it again
 * unless a route module asks for the value.
 */
export const FRAME_KINDS: readonly EnvelopeKind[] = ['request', 'response', 'error', 'chunk', 'end', 'cancel', 'credit', 'control'];
const KINDS = FRAME_KINDS;
const KIND_CODE = new Map(KINDS.map((k, i) => [k, i]));

const META = 1;
const PAYLOAD = 2;
const JSON_TEXT = 4;

/** Envelope fields that travel in the meta object (everything but kind, id and the payload). */
type MetaKey = 'replyTo' | 'port' | 'route' | 'deadline' | 'traceparent' | 'stream' | 'window' | 'wantJson' | 'ts' | 'nonce' | 'sig';
const META_KEYS: readonly MetaKey[] = ['replyTo', 'port', 'route', 'deadline', 'traceparent', 'stream', 'window', 'wantJson', 'ts', 'nonce', 'sig'];

/** Encodes one envelope as a whole frame, length prefix included. Throws `EncodeError` for a payload the codec refuses. */
export function encodeFrame(e: Envelope, codec: Codec): Buffer {
  const kind = KIND_CODE.get(e.kind);
  if (kind === undefined) throw new EncodeError(codec.name, e.kind, new Error(`unknown envelope kind ${JSON.stringify(e.kind)}`));
  let payload: Buffer | string | undefined;
  let flags = 0;
  if (e instanceof ReceivedEnvelope && e.passThrough(codec)) {
    // Relayed as it came (a process group's request or reply): the bytes are not decoded and re-encoded.
    payload = e.body!.bytes;
    flags |= PAYLOAD | (e.body!.json ? JSON_TEXT : 0);
  } else if (e.payload !== undefined) {
    const asJson = e.json === true || codec.json;
    try {
      payload = asJson ? (JSON.stringify(e.payload) as string | undefined) : codec.encode(e.payload);
    } catch (err) {
      throw new EncodeError(asJson ? 'json' : codec.name, e.kind, err);
    }
    if (payload !== undefined) flags |= PAYLOAD | (asJson ? JSON_TEXT : 0);
  }
  const meta = metaOf(e);
  if (meta !== undefined) flags |= META;
  const idBytes = Buffer.byteLength(e.id);
  if (idBytes > 0xffff) throw new EncodeError(codec.name, e.kind, new Error(`id of ${idBytes} bytes exceeds 65535`));
  const metaBytes = meta === undefined ? 0 : Buffer.byteLength(meta);
  const payloadBytes = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const length = 4 + idBytes + (meta === undefined ? 0 : 4 + metaBytes) + payloadBytes;
  // One buffer per frame, written in place: small frames come from Node's shared pool.
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame[4] = kind;
  frame[5] = flags;
  frame.writeUInt16BE(idBytes, 6);
  let at = 8 + frame.write(e.id, 8);
  if (meta !== undefined) {
    frame.writeUInt32BE(metaBytes, at);
    at += 4;
    at += frame.write(meta, at);
  }
  if (typeof payload === 'string') frame.write(payload, at);
  else if (payload !== undefined) payload.copy(frame, at);
  return frame;
}

function metaOf(e: Envelope): string | undefined {
  let meta: Partial<Record<MetaKey, unknown>> | undefined;
  for (const key of META_KEYS) {
    const v = e[key];
    if (v !== undefined) (meta ??= {})[key] = v;
  }
  return meta === undefined ? undefined : JSON.stringify(meta);
}

/** Decodes one frame (without its length prefix). Throws on bytes that are not a frame: the stream is then out of sync. */
export function decodeFrame(frame: Buffer, codec: Codec): Envelope {
  if (frame.length < 4) throw new Error(`frame of ${frame.length} bytes is shorter than its header`);
  const kind = KINDS[frame[0]!];
  if (kind === undefined) throw new Error(`unknown envelope kind code ${frame[0]}`);
  const flags = frame[1]!;
  const idEnd = 4 + frame.readUInt16BE(2);
  if (idEnd > frame.length) throw new Error('frame id runs past the end of the frame');
  const e = new ReceivedEnvelope(kind, frame.toString('utf8', 4, idEnd), codec);
  let at = idEnd;
  if (flags & META) {
    if (at + 4 > frame.length) throw new Error('frame meta length runs past the end of the frame');
    const end = at + 4 + frame.readUInt32BE(at);
    if (end > frame.length) throw new Error('frame meta runs past the end of the frame');
    const meta: unknown = JSON.parse(frame.toString('utf8', at + 4, end));
    if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new Error('frame meta is not an object');
    for (const key of META_KEYS) {
      const v = (meta as Record<string, unknown>)[key];
      if (v !== undefined) (e as unknown as Record<string, unknown>)[key] = v;
    }
    at = end;
  }
  if (flags & PAYLOAD) e.body = { bytes: frame.subarray(at), json: (flags & JSON_TEXT) !== 0 };
  else if (at !== frame.length) throw new Error('frame has bytes after its header but no payload flag');
  return e;
}

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
class ReceivedEnvelope implements Envelope {
  // The meta fields (route, deadline, ...) are set by decodeFrame when present.
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
    return !this.decoded && this.body !== undefined && (this.body.json || this.codec.name === codec.name);
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
      if (body) this.value = body.json ? JSON.parse(body.bytes.toString('utf8')) : this.codec.decode(body.bytes);
    }
    return this.value;
  }
}
