/**
 * A duration in seconds as a person writes it: `75 ms` below a second, `3.38s` above.
 * Backoff arithmetic (0.05 x 1.5) leaves float noise (0.07500000000000001) that a log
 * line must not show.
 */
export function formatSeconds(seconds: number): string {
  const ms = Number((seconds * 1000).toFixed(1));
  if (ms < 1000) return `${ms} ms`;
  return `${Number(seconds.toFixed(2))}s`;
}
