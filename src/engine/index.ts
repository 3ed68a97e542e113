export { Engine, type EngineStats } from './engine.js';
export { Queue, type GetOptions } from './queue.js';
export type { EngineContext, EngineHandler } from './context.js';
export type { BatchHandler, BatchOptions } from './batcher.js';
export type { StepHandler, StepOutput } from './steps.js';
export type { LimitOptions } from './limiter.js';
export type { HandlerStats, QueueOptions, QueueOrder } from './handler-stats.js';
