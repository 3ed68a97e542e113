/** PM2-style backoff: first delay as configured, x1.5 per consecutive crash, capped. */
export const BACKOFF_FACTOR = 1.5;
export const BACKOFF_CAP_S = 15;
/** Uptime after which a web process counts as healthy and its slot's crash count resets. */
export const HEALTHY_UPTIME_S = 30;

export interface RestartPolicy {
  autoRestart: boolean;
  /** Consecutive crashes a slot may have before it is given up; 0: no limit. */
  maxRestarts: number;
  /** Seconds before the first restart. */
  restartDelay: number;
}

export type RestartDecision =
  /** Start again after `delay` seconds; `attempt` is the slot's crash count in a row, this one included. */
  | { restart: true; attempt: number; delay: number }
  | { restart: false };

/**
 * What to do when a slot's process crashed: `crashes` is the slot's count of crashes in a
 * row before this one, `uptime` how long (seconds) the process that crashed ran. A process
 * that ran for `HEALTHY_UPTIME_S` was healthy: the count starts over.
 */
export function decideRestart(policy: RestartPolicy, crashes: number, uptime: number): RestartDecision {
  const inRow = uptime >= HEALTHY_UPTIME_S ? 0 : crashes;
  if (!policy.autoRestart || (policy.maxRestarts > 0 && inRow >= policy.maxRestarts)) return { restart: false };
  return { restart: true, attempt: inRow + 1, delay: Math.min(policy.restartDelay * BACKOFF_FACTOR ** inRow, BACKOFF_CAP_S) };
}
