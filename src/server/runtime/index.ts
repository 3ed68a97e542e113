export { Server, type BoundAddress, type ServerEvents } from './server.js';
export { SubprocessManager, type ExitInfo } from './subprocess.js';
export { WebSupervisor } from './supervisor.js';
export type { WebSpec } from './adapter/app.js';
export type { ForwardRequest } from './adapter/forward.js';
export { replySse, type SseOptions } from './adapter/sse.js';
