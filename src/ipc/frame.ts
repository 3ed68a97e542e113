import type { Envelope, EnvelopeKind, Port } from '../contract/envelope.js';
import { EncodeError } from '../errors/index.js';
import { RawForward } from '../contract/request.js';
import type { Codec } from './codecs/index.js';
import { HEADER_BYTES } from './framing.js';
import { ReceivedEnvelope, type Utf8Buffer } from './received.js';

export { withId } from './received.js';

/**
 * The bytes of one envelope on a stream transport, after the 4-byte length prefix:
 *
 *   u8 kind | u8 flags | u16 fields | u16 id length | id (utf8)
 *   then each field present in `fields`, in FIELDS order:
 *     a string: u16 length | utf8;  a number: f64;  port: u8;  stream, wantJson: the bit alone
 *   [flags & PAYLOAD] the payload: the codec's bytes, or JSON text when flags & JSON, or
 *     when flags & RAW_FORWARD a forward request whose body is its client's text, unparsed:
 *     u32 length | the request's other fields as JSON text | the body's text
 *
 * The envelope's fields are the framework's own, so they travel as a fixed binary header
 * and the codec sees only the user's value: a JSON object for them cost a stringify on one
 * side and a parse on the other, about a third of a web process's IPC work per request. A
 * reply whose payload is JSON text reaches the web process as bytes it can write into an
 * HTTP body or an SSE event unparsed: the engine encodes a reply once, and nobody decodes
 * it again unless a route module asks for the value.
 */
export const FRAME_KINDS: readonly EnvelopeKind[] = ['request', 'response', 'error', 'chunk', 'end', 'cancel', 'credit', 'control'];
const KINDS = FRAME_KINDS;
const KIND_CODE: Readonly<Record<string, number>> = Object.fromEntries(KINDS.map((k, i) => [k, i]));
const PORTS: readonly Port[] = ['request', 'response', 'stream', 'kv_stream'];
const PORT_CODE: Readonly<Record<string, number>> = Object.fromEntries(PORTS.map((p, i) => [p, i]));

const PAYLOAD = 2;
const JSON_TEXT = 4;
/** The payload is a `RawForward`: u32 length | the head's JSON text | the client's body text. */
const RAW_FORWARD = 8;

const REPLY_TO = 1;
const PORT = 2;
const ROUTE = 4;
const DEADLINE = 8;
const TRACEPARENT = 16;
const STREAM = 32;
const WINDOW = 64;
const WANT_JSON = 128;
const TS = 256;
const NONCE = 512;
const SIG = 1024;
const KNOWN_FIELDS = 2047;

const MAX_STRING = 0xffff;
/** Frames are written into slabs of this size; a frame larger than a quarter of one gets its own buffer. */
const SLAB_BYTES = 64 * 1024;

/**
 * Writes frames back to back into a slab, so a turn's frames are one contiguous view to
 * write with no concatenation, and a frame costs no allocation of its own. Bytes handed out
 * by `take` are never written again (the next frames go after them, or into a new slab).
 */
export class FrameWriter {
  private slab = Buffer.allocUnsafe(SLAB_BYTES) as Utf8Buffer;
  /** Where the frames not yet taken begin. */
  private start = 0;
  private at = 0;
  /** Frames written since the last take that no longer lie in the current slab. */
  private spilled: Buffer[] = [];
  private spilledBytes = 0;

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.spilledBytes + this.at - this.start;
  }

  /** Appends one whole frame, length prefix included. Throws `EncodeError` with nothing written. */
  append(e: Envelope, codec: Codec): void {
    const kind = KIND_CODE[e.kind];
    if (kind === undefined) throw new EncodeError(codec.name, e.kind, new Error(`unknown envelope kind ${JSON.stringify(e.kind)}`));
    let payload: Buffer | string | undefined;
    let head: string | undefined;
    let flags = 0;
    if (e instanceof ReceivedEnvelope && e.passThrough(codec)) {
      // Relayed as it came (a process group's request or reply): the bytes are not decoded and re-encoded.
      payload = e.body!.bytes;
      flags = PAYLOAD | (e.body!.json ? JSON_TEXT : 0) | (e.body!.forward ? RAW_FORWARD : 0);
    } else if (e.payload instanceof RawForward) {
      try {
        head = JSON.stringify(e.payload.head);
      } catch (err) {
        throw new EncodeError('json', e.kind, err);
      }
      payload = e.payload.body;
      flags = PAYLOAD | RAW_FORWARD;
    } else if (e.payload !== undefined) {
      const asJson = e.json === true || codec.json;
      try {
        payload = asJson ? (JSON.stringify(e.payload) as string | undefined) : codec.encode(e.payload);
      } catch (err) {
        throw new EncodeError(asJson ? 'json' : codec.name, e.kind, err);
      }
      if (payload !== undefined) flags = PAYLOAD | (asJson ? JSON_TEXT : 0);
    }
    let fields = 0;
    // The most a frame can take: 3 bytes per UTF-16 unit of every string, 8 per number.
    let most = HEADER_BYTES + 6 + 3 * e.id.length;
    if (e.replyTo !== undefined) {
      fields |= REPLY_TO;
      most += 2 + 3 * e.replyTo.length;
    }
    if (e.port !== undefined) {
      if (PORT_CODE[e.port] === undefined) throw new EncodeError(codec.name, e.kind, new Error(`unknown port ${JSON.stringify(e.port)}`));
      fields |= PORT;
      most += 1;
    }
    if (e.route !== undefined) {
      fields |= ROUTE;
      most += 2 + 3 * e.route.length;
    }
    if (e.deadline !== undefined) {
      fields |= DEADLINE;
      most += 8;
    }
    if (e.traceparent !== undefined) {
      fields |= TRACEPARENT;
      most += 2 + 3 * e.traceparent.length;
    }
    if (e.stream) fields |= STREAM;
    if (e.window !== undefined) {
      fields |= WINDOW;
      most += 8;
    }
    if (e.wantJson) fields |= WANT_JSON;
    if (e.ts !== undefined) {
      fields |= TS;
      most += 8;
    }
    if (e.nonce !== undefined) {
      fields |= NONCE;
      most += 2 + 3 * e.nonce.length;
    }
    if (e.sig !== undefined) {
      fields |= SIG;
      most += 2 + 3 * e.sig.length;
    }
    if (payload !== undefined) most += typeof payload === 'string' ? 3 * payload.length : payload.length;
    if (head !== undefined) most += 4 + 3 * head.length;

    const own = most > SLAB_BYTES >> 2;
    if (!own && this.at + most > this.slab.length) this.newSlab();
    const buf = own ? (Buffer.allocUnsafe(most) as Utf8Buffer) : this.slab;
    const begin = own ? 0 : this.at;
    let at = begin + HEADER_BYTES;
    buf[at] = kind;
    buf[at + 1] = flags;
    buf.writeUInt16BE(fields, at + 2);
    at = putString(buf, at + 4, e.id, codec, e.kind, 'id');
    if (fields & REPLY_TO) at = putString(buf, at, e.replyTo!, codec, e.kind, 'replyTo');
    if (fields & PORT) buf[at++] = PORT_CODE[e.port!]!;
    if (fields & ROUTE) at = putString(buf, at, e.route!, codec, e.kind, 'route');
    if (fields & DEADLINE) at = buf.writeDoubleBE(e.deadline!, at);
    if (fields & TRACEPARENT) at = putString(buf, at, e.traceparent!, codec, e.kind, 'traceparent');
    if (fields & WINDOW) at = buf.writeDoubleBE(e.window!, at);
    if (fields & TS) at = buf.writeDoubleBE(e.ts!, at);
    if (fields & NONCE) at = putString(buf, at, e.nonce!, codec, e.kind, 'nonce');
    if (fields & SIG) at = putString(buf, at, e.sig!, codec, e.kind, 'sig');
    if (head !== undefined) {
      const n = buf.utf8Write(head, at + 4);
      buf.writeUInt32BE(n, at);
      at += 4 + n;
    }
    if (typeof payload === 'string') at += buf.utf8Write(payload, at);
    else if (payload !== undefined) at += payload.copy(buf, at);
    buf.writeUInt32BE(at - begin - HEADER_BYTES, begin);
    if (own) {
      this.spill();
      this.spilled.push(buf.subarray(0, at));
      this.spilledBytes += at;
    } else {
      this.at = at;
    }
  }

  /** Appends bytes that are already a whole frame (a sealed one). */
  appendBytes(frame: Buffer): void {
    if (frame.length > SLAB_BYTES >> 2) {
      this.spill();
      this.spilled.push(frame);
      this.spilledBytes += frame.length;
      return;
    }
    if (this.at + frame.length > this.slab.length) this.newSlab();
    this.at += frame.copy(this.slab, this.at);
  }

  /** The frames appended since the last take, in order, as one buffer (empty when there are none). */
  take(): Buffer {
    if (this.spilled.length === 0) {
      const out = this.slab.subarray(this.start, this.at);
      this.start = this.at;
      return out;
    }
    this.spill();
    const out = this.spilled.length === 1 ? this.spilled[0]! : Buffer.concat(this.spilled, this.spilledBytes);
    this.spilled = [];
    this.spilledBytes = 0;
    return out;
  }

  /** Moves the frames not yet taken out of the current slab, in order. */
  private spill(): void {
    if (this.at === this.start) return;
    this.spilled.push(this.slab.subarray(this.start, this.at));
    this.spilledBytes += this.at - this.start;
    this.start = this.at;
  }

  private newSlab(): void {
    this.spill();
    this.slab = Buffer.allocUnsafe(SLAB_BYTES) as Utf8Buffer;
    this.start = this.at = 0;
  }
}

/** u16 length, then the string's UTF-8 bytes; the room was reserved by the caller. */
function putString(buf: Utf8Buffer, at: number, s: string, codec: Codec, kind: string, field: string): number {
  const n = buf.utf8Write(s, at + 2);
  if (n > MAX_STRING) throw new EncodeError(codec.name, kind, new Error(`${field} of ${n} bytes exceeds ${MAX_STRING}`));
  buf.writeUInt16BE(n, at);
  return at + 2 + n;
}

const shared = new FrameWriter();

/** Encodes one envelope as a whole frame, length prefix included. Throws `EncodeError` for a payload the codec refuses. */
export function encodeFrame(e: Envelope, codec: Codec): Buffer {
  shared.append(e, codec);
  return shared.take();
}

/** A frame's kind code and id, read without decoding the rest (a seal's check); undefined when the header runs past the end. */
export function frameKindAndId(frame: Buffer): { kind: number; id: string } | undefined {
  if (frame.length < 6) return undefined;
  const idEnd = 6 + frame.readUInt16BE(4);
  if (idEnd > frame.length) return undefined;
  return { kind: frame[0]!, id: (frame as Utf8Buffer).utf8Slice(6, idEnd) };
}

/** Decodes one frame (without its length prefix). Throws on bytes that are not a frame: the stream is then out of sync. */
export function decodeFrame(frame: Buffer, codec: Codec): Envelope {
  const end = frame.length;
  if (end < 6) throw new Error(`frame of ${end} bytes is shorter than its header`);
  const kind = KINDS[frame[0]!];
  if (kind === undefined) throw new Error(`unknown envelope kind code ${frame[0]}`);
  const flags = frame[1]!;
  const fields = frame.readUInt16BE(2);
  if (fields & ~KNOWN_FIELDS) throw new Error(`unknown frame fields ${fields.toString(2)}`);
  const r = new Reader(frame as Utf8Buffer, 4);
  const e = new ReceivedEnvelope(kind, r.string(), codec);
  if (fields & REPLY_TO) e.replyTo = r.string();
  if (fields & PORT) {
    const port = PORTS[r.byte()];
    if (port === undefined) throw new Error('unknown port code in frame');
    e.port = port;
  }
  if (fields & ROUTE) e.route = r.string();
  if (fields & DEADLINE) e.deadline = r.number();
  if (fields & TRACEPARENT) e.traceparent = r.string();
  if (fields & STREAM) e.stream = true;
  if (fields & WINDOW) e.window = r.number();
  if (fields & WANT_JSON) e.wantJson = true;
  if (fields & TS) e.ts = r.number();
  if (fields & NONCE) e.nonce = r.string();
  if (fields & SIG) e.sig = r.string();
  if (flags & RAW_FORWARD) {
    if (!(flags & PAYLOAD) || (flags & JSON_TEXT) || e.kind !== 'request') throw new Error('a raw forward payload on a frame that cannot carry one');
    e.body = { bytes: frame.subarray(r.at), json: false, forward: true };
  } else if (flags & PAYLOAD) e.body = { bytes: frame.subarray(r.at), json: (flags & JSON_TEXT) !== 0 };
  else if (r.at !== end) throw new Error('frame has bytes after its header but no payload flag');
  return e;
}

/** Reads a frame's header fields, refusing any that runs past the frame's end. */
class Reader {
  constructor(
    private readonly buf: Utf8Buffer,
    public at: number,
  ) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error('frame field runs past the end of the frame');
  }

  string(): string {
    this.need(2);
    const n = this.buf.readUInt16BE(this.at);
    this.need(2 + n);
    const s = this.buf.utf8Slice(this.at + 2, this.at + 2 + n);
    this.at += 2 + n;
    return s;
  }

  byte(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }

  number(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.at);
    this.at += 8;
    return v;
  }
}
