export { IPCChannel, DEFAULT_STREAM_WINDOW, type ChannelOptions, type SubmitOptions, type ChannelStats } from './channel.js';
export { Waiter } from './waiter.js';
export { payloadOf, UnreadablePayload } from './waiters.js';
export { ChunkStream } from './stream.js';
