/**
 * `appinfra/web`: what a route module needs in the web process, without the rest of the
 * package (builders, config, the CLI framework), which a web process would only load to
 * slow its start-up.
 */
export { IPCChannel, type SubmitOptions } from './channel/index.js';
export { replySse, type SseOptions } from './runtime/web/adapters/sse.js';
export type { ForwardRequest } from './contract/request.js';
export { AppinfraError, EngineError, OverloadedError, ResponseTimeoutError, ChannelClosedError, ClientGoneError } from './errors/index.js';
