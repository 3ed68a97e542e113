/**
 * `engine.handlers` of an app file: per engine handler, unary batching and/or a
 * concurrency limit with its bounded queue (the file's form of `engine.handleBatch` and of
 * `engine.handle(name, fn, { concurrency })`). Continuous batching (`handleSteps`) takes a
 * pair of functions and is registered in code.
 */
import { z } from 'zod';
import type { BatchOptions } from '../../engine/batcher.js';
import type { LimitOptions } from '../../engine/limiter.js';

const posInt = (what: string) => z.number({ error: what }).int({ error: what }).positive({ error: what });

export const handlerSettingsSchema = z
  .strictObject({
    batch: z
      .strictObject({
        max_batch_size: posInt('a positive integer (requests in one batch)').default(32),
        max_wait_ms: z.number({ error: 'milliseconds >= 0' }).min(0, { error: 'milliseconds >= 0' }).default(5),
      })
      .optional(),
    concurrency: posInt('a positive integer (requests, or batches with batch:, at once)').optional(),
    max_queue: posInt('a positive integer (requests waiting before 503)').optional(),
    queue_order: z.enum(['fifo', 'deadline'], { error: 'fifo or deadline' }).optional(),
    retry_after: posInt('a positive integer of seconds (Retry-After of a 503)').optional(),
  })
  .refine((s) => s.batch !== undefined || s.concurrency !== undefined, { error: 'batch: or concurrency: (max_queue, queue_order and retry_after apply to one of them)' });

export const handlersSchema = z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, { error: 'the name of a function the engine module exports' }), handlerSettingsSchema, { error: 'a mapping of handler name to settings' });

export type HandlerSettings = z.output<typeof handlerSettingsSchema>;

/** The engine's options for a handler's settings: `batch` for handleBatch, else `limit` for handle. */
export function handlerOptions(s: HandlerSettings): { batch: BatchOptions } | { limit: LimitOptions } {
  const queue = {
    ...(s.max_queue !== undefined ? { maxQueue: s.max_queue } : {}),
    ...(s.queue_order !== undefined ? { queueOrder: s.queue_order } : {}),
    ...(s.retry_after !== undefined ? { retryAfter: s.retry_after } : {}),
  };
  if (s.batch) return { batch: { maxBatchSize: s.batch.max_batch_size, maxWaitMs: s.batch.max_wait_ms, ...(s.concurrency !== undefined ? { concurrency: s.concurrency } : {}), ...queue } };
  return { limit: { concurrency: s.concurrency!, ...queue } };
}
