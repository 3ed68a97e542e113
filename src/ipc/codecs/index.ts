import { serialize, deserialize } from 'node:v8';
import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import { ConfigError } from '../../errors/index.js';

/**
 * Turns a payload (the value a request or reply carries) into bytes and back; chosen per
 * server with `.subprocess.withCodec(name)`. The envelope's own fields travel in the
 * frame header (see ../frame.ts), so a codec only ever sees user values. `encode`
 * throws on a value the format cannot carry; the link turns that into an `EncodeError`
 * before it queues anything.
 */
export interface Codec {
  readonly name: string;
  /** True when `encode` produces JSON text: the web process can then pass a reply through as is. */
  readonly json: boolean;
  /** Undefined for a value the format drops (JSON: undefined, a function, a Symbol): the payload is absent. */
  encode(value: unknown): Buffer | string | undefined;
  decode(bytes: Buffer): unknown;
}

export const jsonCodec: Codec = {
  name: 'json',
  json: true,
  // A string, not a Buffer: the frame writer copies it straight into the frame.
  encode: (v) => JSON.stringify(v) as string | undefined,
  decode: (b) => JSON.parse(b.toString('utf8')),
};

// Loaded on first use: a web process on the json codec (the default) does not pay for it at start.
let packr: Packr | undefined;
function msgpack(): Packr {
  if (!packr) {
    const { Packr: PackrClass } = createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr');
    // Records off: payloads are small maps and the other side may be another runtime.
    packr = new PackrClass({ useRecords: false, moreTypes: false });
  }
  return packr;
}

export const msgpackCodec: Codec = {
  name: 'msgpack',
  json: false,
  encode: (v) => msgpack().pack(v),
  decode: (b) => msgpack().unpack(b),
};

/** V8 structured clone: carries Dates, Maps, typed arrays, at a CPU cost for small objects. */
export const v8Codec: Codec = {
  name: 'v8',
  json: false,
  encode: (v) => serialize(v),
  decode: (b) => deserialize(b),
};

const CODECS: Record<string, Codec> = { json: jsonCodec, msgpack: msgpackCodec, v8: v8Codec };

export function codecByName(name: string): Codec {
  const codec = CODECS[name];
  if (!codec) throw new ConfigError(`Unknown codec "${name}": use one of ${Object.keys(CODECS).join(', ')}`);
  return codec;
}
