export { Engine, type EngineStats } from './engine.js';
export { Queue, type GetOptions } from './queue.js';
export type { EngineContext, EngineHandler } from './context.js';
