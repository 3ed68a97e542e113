export { IPCChannel, type ChannelOptions, type SubmitOptions, type ChannelStats, type ChannelEvent } from './channel.js';
export { ChunkStream } from './stream.js';
