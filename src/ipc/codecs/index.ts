import { serialize, deserialize } from 'node:v8';
import { Packr } from 'msgpackr';
import type { Envelope } from '../envelope.js';
import { ConfigError } from '../../errors.js';

/**
 * Turns envelopes into bytes and back. Chosen per server with `.subprocess.withCodec(name)`.
 * `encode` and `chunkPart` throw on a value the format cannot carry; the link turns that
 * into an `EncodeError` before it queues anything.
 */
export interface Codec {
  readonly name: string;
  encode(envelope: Envelope): Buffer;
  decode(bytes: Buffer): Envelope;
  /**
   * Optional, for stream chunks sent in one event-loop turn to travel as one frame (an
   * envelope with `batch`, which the receiving link unrolls). `chunkPart` encodes one
   * chunk's payload when it is sent (a snapshot: later changes to the object do not
   * leak into the frame); it returns undefined when that payload cannot go in a batch.
   * `chunkBatch` builds the frame.
   */
  chunkPart?(payload: unknown): string | undefined;
  chunkBatch?(id: string, parts: readonly string[]): Buffer;
}

export const jsonCodec: Codec = {
  name: 'json',
  encode: (e) => Buffer.from(JSON.stringify(e)),
  decode: (b) => JSON.parse(b.toString('utf8')) as Envelope,
  // JSON.stringify gives undefined for undefined, functions and symbols: those take the one-envelope path.
  // It throws for a BigInt or a circular object, as `encode` does.
  chunkPart: (payload) => JSON.stringify(payload) as string | undefined,
  chunkBatch: (id, parts) => Buffer.from(`{"kind":"chunk","id":${JSON.stringify(id)},"batch":[${parts.join(',')}]}`),
};

// Records off: envelopes are small maps and the other side may be another runtime.
const packr = new Packr({ useRecords: false, moreTypes: false });
export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode: (e) => packr.pack(e),
  decode: (b) => packr.unpack(b) as Envelope,
};

/** V8 structured clone: carries Dates, Maps, typed arrays, at a CPU cost for small objects. */
export const v8Codec: Codec = {
  name: 'v8',
  encode: (e) => serialize(e),
  decode: (b) => deserialize(b) as Envelope,
};

const CODECS: Record<string, Codec> = { json: jsonCodec, msgpack: msgpackCodec, v8: v8Codec };

export function codecByName(name: string): Codec {
  const codec = CODECS[name];
  if (!codec) throw new ConfigError(`Unknown codec "${name}": use one of ${Object.keys(CODECS).join(', ')}`);
  return codec;
}
