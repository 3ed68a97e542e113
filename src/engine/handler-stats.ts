import { publish } from '../observability/diagnostics.js';

/** How a limited or batching handler's queue is ordered. */
export type QueueOrder = 'fifo' | 'deadline';

/** Admission settings every limited or batching handler shares. */
export interface QueueOptions {
  /** Requests that may wait in front of the handler before admission answers 503 (default 1000). */
  maxQueue?: number;
  /** `fifo` (default): arrival order. `deadline`: the request whose deadline comes first goes first. */
  queueOrder?: QueueOrder;
  /** Seconds a refused client is told to wait (`Retry-After`, default 1). */
  retryAfter?: number;
}

/**
 * What one limited or batching handler did, as plain numbers (for `/_health`, logs and
 * the metrics of whoever reads them). Counters only grow; `queued` and `running` are now.
 */
export interface HandlerStats {
  kind: 'limit' | 'batch' | 'steps';
  /** Requests waiting now. */
  queued: number;
  /** Requests being worked on now (in a running batch, or active sequences). */
  running: number;
  admitted: number;
  /** Refused at admission: the queue was full (503 + Retry-After). */
  refused: number;
  /** Dropped because their deadline passed before they started (504). */
  expired: number;
  /** Cancelled (client gone, timeout) while they waited: removed before they cost anything. */
  cancelled: number;
  queueWaitCount: number;
  queueWaitTotalMs: number;
  queueWaitMaxMs: number;
  /** Batch handler calls (`batch`) or steps (`steps`); 0 for `limit`. */
  batches: number;
  /** Items over all batches or steps: batchItems / batches is the mean batch size. */
  batchItems: number;
  lastBatchSize: number;
  maxBatchSizeSeen: number;
}

export function newHandlerStats(kind: HandlerStats['kind']): HandlerStats {
  return {
    kind,
    queued: 0,
    running: 0,
    admitted: 0,
    refused: 0,
    expired: 0,
    cancelled: 0,
    queueWaitCount: 0,
    queueWaitTotalMs: 0,
    queueWaitMaxMs: 0,
    batches: 0,
    batchItems: 0,
    lastBatchSize: 0,
    maxBatchSizeSeen: 0,
  };
}

export function countBatch(handler: string, stats: HandlerStats, size: number): void {
  publish('batch', () => ({ handler, kind: stats.kind === 'steps' ? 'steps' : 'batch', size }));
  stats.batches++;
  stats.batchItems += size;
  stats.lastBatchSize = size;
  if (size > stats.maxBatchSizeSeen) stats.maxBatchSizeSeen = size;
}

/** A summary for `/_health`: means instead of totals. */
export function summarize(s: HandlerStats): Record<string, number | string> {
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    kind: s.kind,
    queued: s.queued,
    running: s.running,
    admitted: s.admitted,
    refused: s.refused,
    expired: s.expired,
    cancelled: s.cancelled,
    queueWaitMeanMs: round(s.queueWaitCount ? s.queueWaitTotalMs / s.queueWaitCount : 0),
    queueWaitMaxMs: round(s.queueWaitMaxMs),
    ...(s.kind === 'limit' ? {} : { batches: s.batches, batchSizeMean: round(s.batches ? s.batchItems / s.batches : 0), batchSizeMax: s.maxBatchSizeSeen }),
  };
}
