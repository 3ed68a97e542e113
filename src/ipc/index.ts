export type { Envelope, EnvelopeKind, Port } from '../contract/envelope.js';
export { codecByName, jsonCodec, msgpackCodec, v8Codec, type Codec } from './codecs/index.js';
export type { Link } from './transports/link.js';
export { memoryLinkPair } from './transports/memory.js';
export { PipeLink, type PipeLinkOptions } from './transports/pipe.js';
export { FrameDecoder } from './framing.js';
