import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IPCChannel } from '../../channel/channel.js';
import { CHANNEL_NAMES, type RejectedMessage } from '../diagnostics.js';
import { LATENCY_BUCKETS } from './buckets.js';
import { LoopLag } from './loop-lag.js';

/** What one HTTP response adds to the metrics. */
export interface HttpObservation {
  route: string;
  method: string;
  status: number;
  seconds: number;
}

/**
 * A web process's metrics, in its own registry: HTTP requests by route, method and status,
 * their duration by route, requests in flight, the IPC channel's pending and maxPending,
 * timeouts, cancels, admission rejections by reason (whoever publishes them on
 * `appinfra:rejected`), and the event-loop lag. Figures the channel already counts are
 * read at scrape time; per request there is one counter and one histogram update.
 */
export class WebMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route'>;
  /** Label children by key: prom-client hashes the label object on every call otherwise. */
  private readonly counted = new Map<string, Counter.Internal>();
  private readonly timed = new Map<string, Histogram.Internal<string>>();
  private readonly rejections: Counter<'reason'>;
  private readonly onRejected = (m: unknown): void => this.rejections.inc({ reason: (m as RejectedMessage).reason });
  private readonly loop: LoopLag | undefined;
  /** Responses this process answered: the per-process share of the summed counter above. */
  private answered = 0;

  /** `loopLag` false: another part of this process (the engine's metrics, in direct mode) reports it. */
  constructor(processName: string, channel: IPCChannel, inFlight: () => number, registry = new Registry(), loopLag = true) {
    this.registry = registry;
    const process = processName;
    this.requests = new Counter({ name: 'appinfra_http_requests_total', help: 'HTTP requests answered, by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] });
    this.duration = new Histogram({ name: 'appinfra_http_request_duration_seconds', help: 'HTTP request duration by route', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [registry] });
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
    subscribe(CHANNEL_NAMES.rejected, this.onRejected);
    if (loopLag) this.loop = new LoopLag(registry, processName);
  }

  observe(o: HttpObservation): void {
    this.answered++;
    const key = `${o.route}\n${o.method}\n${o.status}`;
    let c = this.counted.get(key);
    if (c === undefined) this.counted.set(key, (c = this.requests.labels(o.route, o.method, String(o.status))));
    c.inc();
    let h = this.timed.get(o.route);
    if (h === undefined) this.timed.set(o.route, (h = this.duration.labels(o.route)));
    h.observe(o.seconds);
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
