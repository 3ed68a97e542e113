import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** Windows the lag is measured over; a figure covers the last one to two of them. */
const WINDOW_MS = 5000;

/**
 * The event-loop lag of this process (what the framework isolates: the engine may block
 * while the web processes stay responsive), as `appinfra_event_loop_lag_seconds` with
 * `quantile` 0.5, 0.99 and 1 (the max) over the last 5 to 10 seconds, labelled by process.
 * Owns one histogram and one unref'd timer; `close()` stops both.
 */
export class LoopLag {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private previous = { p50: 0, p99: 0, max: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(registry: Registry, processName: string) {
    this.histogram.enable();
    this.timer = setInterval(() => this.rotate(), WINDOW_MS).unref();
    const current = (): { p50: number; p99: number; max: number } => this.current();
    new Gauge({
      name: 'appinfra_event_loop_lag_seconds',
      help: 'Event-loop delay of each process over the last 5-10 s (quantile 1 is the max)',
      labelNames: ['process', 'quantile'],
      registers: [registry],
      collect() {
        const now = current();
        this.set({ process: processName, quantile: '0.5' }, now.p50);
        this.set({ process: processName, quantile: '0.99' }, now.p99);
        this.set({ process: processName, quantile: '1' }, now.max);
      },
    });
  }

  /** The larger of this window's and the previous window's figures, in seconds. */
  current(): { p50: number; p99: number; max: number } {
    const h = this.histogram;
    const nowWindow = h.count > 0 ? { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 } : { p50: 0, p99: 0, max: 0 };
    return {
      p50: Math.max(nowWindow.p50, this.previous.p50),
      p99: Math.max(nowWindow.p99, this.previous.p99),
      max: Math.max(nowWindow.max, this.previous.max),
    };
  }

  private rotate(): void {
    const h = this.histogram;
    this.previous = h.count > 0 ? { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 } : { p50: 0, p99: 0, max: 0 };
    h.reset();
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
