import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, Registry } from 'prom-client';
import type { IPCChannel } from '../../channel/channel.js';
import { CHANNEL_NAMES, type RejectedMessage } from '../diagnostics.js';
import { counterFamily, histogramFamily, type CounterSeries, type HistogramSeries } from './route-series.js';
import { LoopLag } from './loop-lag.js';

/**
 * A web process's metrics, in its own registry: HTTP requests by route, method and status,
 * their duration by route, requests in flight, the IPC channel's pending and maxPending,
 * timeouts, cancels, admission rejections by reason (whoever publishes them on
 * `appinfra:rejected`), and the event-loop lag. Figures the channel already counts are
 * read at scrape time; per response a route's series takes a few increments.
 */
export class WebMetrics {
  readonly registry: Registry;
  private readonly requests: ReturnType<typeof counterFamily>;
  private readonly duration: ReturnType<typeof histogramFamily>;
  private readonly rejections: Counter<'reason'>;
  private replyTo = '';
  /** The channel is per process: count only this web side's refusals (two direct-mode servers share one process). */
  private readonly onRejected = (m: unknown): void => {
    const r = m as RejectedMessage;
    if (r.replyTo === this.replyTo) this.rejections.inc({ reason: r.reason });
  };
  private readonly loop: LoopLag | undefined;
  /** Responses this process answered: the per-process share of the summed counter above. */
  private answered = 0;

  /** `loopLag` false: another part of this process (the engine's metrics, in direct mode) reports it. */
  constructor(processName: string, channel: IPCChannel, inFlight: () => number, registry = new Registry(), loopLag = true) {
    this.registry = registry;
    const process = processName;
    this.requests = counterFamily(registry, 'appinfra_http_requests_total', 'HTTP requests answered, by route, method and status', ['route', 'method', 'status']);
    this.duration = histogramFamily(registry, 'appinfra_http_request_duration_seconds', 'HTTP request duration by route', ['route']);
    new Gauge({ name: 'appinfra_http_requests_in_flight', help: 'HTTP requests being served', labelNames: ['process'], registers: [registry], collect() { this.set({ process }, inFlight()); } });
    new Gauge({ name: 'appinfra_ipc_pending', help: 'Requests waiting for the engine', labelNames: ['process'], registers: [registry], collect() { this.set({ process }, channel.pendingCount); } });
    new Gauge({ name: 'appinfra_ipc_max_pending', help: 'Requests allowed to wait for the engine before admission refuses', labelNames: ['process'], registers: [registry], collect() { this.set({ process }, channel.maxPending); } });
    new Gauge({ name: 'appinfra_ipc_connected', help: '1 while the web process has its link to the engine', labelNames: ['process'], registers: [registry], collect() { this.set({ process }, channel.isConnected ? 1 : 0); } });
    fromStats(registry, 'appinfra_ipc_timeouts_total', 'Requests that reached their deadline', () => channel.stats.timedOut);
    fromStats(registry, 'appinfra_ipc_cancels_total', 'Requests cancelled because the client went away', () => channel.stats.cancelled);
    fromStats(registry, 'appinfra_ipc_failed_total', 'Requests the engine answered with an error', () => channel.stats.failed);
    const answered = (): number => this.answered;
    new Counter({ name: 'appinfra_web_responses_total', help: 'HTTP responses by web process (the share of each worker)', labelNames: ['process'], registers: [registry], collect() { this.reset(); this.inc({ process }, answered()); } });
    this.rejections = new Counter({ name: 'appinfra_admission_rejections_total', help: 'Requests refused before they reached the engine, by reason', labelNames: ['reason'], registers: [registry] });
    this.replyTo = channel.replyTo;
    subscribe(CHANNEL_NAMES.rejected, this.onRejected);
    if (loopLag) this.loop = new LoopLag(registry, processName);
  }

  /** The series of one route (a route pattern, never a raw URL): its responses are observed on it directly. */
  route(route: string): { observe(method: string, status: number, seconds: number): void } {
    const duration: HistogramSeries = this.duration.series(route);
    // By method and status, found once each (a route answers few of them).
    const counts = new Map<string, CounterSeries>();
    return {
      observe: (method, status, seconds) => {
        this.answered++;
        const key = method + status;
        let c = counts.get(key);
        if (c === undefined) counts.set(key, (c = this.requests.series(route, method, String(status))));
        c.value++;
        duration.observe(seconds);
      },
    };
  }

  close(): void {
    unsubscribe(CHANNEL_NAMES.rejected, this.onRejected);
    this.loop?.close();
  }
}

/** A counter whose value is a running total kept elsewhere (plain integers on the hot path), read at scrape time. */
export function fromStats(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
