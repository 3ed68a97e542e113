export { Engine, type EngineStats, type EngineEvent } from './engine.js';
export { Queue, type GetOptions } from './queue.js';
export type { EngineContext, EngineHandler } from './context.js';
