import { Gauge, Registry } from 'prom-client';
import type { Engine, EngineObserver } from '../../engine/engine.js';
import type { Outcome, PendingRequest } from '../../engine/pending.js';
import { histogramFamily, type HistogramSeries } from './route-series.js';
import { fromStats } from './web.js';
import { LoopLag } from './loop-lag.js';

/** What the supervisor reports (subprocess mode); direct mode has none. */
export interface SupervisionFigures {
  restarts: number;
  recycles: number;
  workers: number;
  configured: number;
}

/**
 * The main process's metrics: the engine (requests by route and outcome, time waited in
 * the engine's queue vs time in the handler, pending, streams open, chunks, credit
 * stalls), the web processes' supervision (restarts, recycles, workers up), and this
 * process's event-loop lag. Other subsystems (process groups, a backbone) add their own
 * figures to `registry` the same way: a Gauge or Counter with a `collect()` reading them.
 */
export class EngineMetrics implements EngineObserver {
  readonly registry: Registry;
  private readonly queueWait: ReturnType<typeof histogramFamily>;
  private readonly handlerTime: ReturnType<typeof histogramFamily>;
  /** Series by route (and outcome), found once each. */
  private readonly waits = new Map<string, HistogramSeries>();
  private readonly handled = new Map<string, HistogramSeries>();
  private readonly loop: LoopLag;

  constructor(private readonly engine: Engine, processName: string, supervision: (() => SupervisionFigures | undefined) | undefined, registry = new Registry()) {
    this.registry = registry;
    const process = processName;
    this.queueWait = histogramFamily(registry, 'appinfra_engine_queue_wait_seconds', 'Time a request waited in the engine before a handler (or the request queue\'s reader) took it', ['route']);
    this.handlerTime = histogramFamily(registry, 'appinfra_engine_handler_seconds', 'Time from a handler taking a request to its last reply, by route and outcome', ['route', 'outcome']);
    new Gauge({ name: 'appinfra_engine_pending', help: 'Requests the engine is working on', labelNames: ['process'], registers: [registry], collect() { this.set({ process }, engine.pendingCount); } });
    new Gauge({ name: 'appinfra_streams_open', help: 'Streams the engine is sending', labelNames: ['process'], registers: [registry], collect() { this.set({ process }, engine.openStreams); } });
    fromStats(registry, 'appinfra_stream_chunks_total', 'Stream chunks sent by the engine', () => engine.stats.chunks);
    fromStats(registry, 'appinfra_stream_credit_stalls_total', 'Times a stream ran out of credit with chunks waiting (a slow client parked it)', () => engine.stats.creditStalls);
    fromStats(registry, 'appinfra_engine_cancels_total', 'Requests the web side cancelled (client gone, deadline)', () => engine.stats.cancelled);
    fromStats(registry, 'appinfra_engine_lost_total', 'Requests lost with their web process', () => engine.stats.lostWithLink);
    if (supervision) {
      const read = (pick: (s: SupervisionFigures) => number) => () => { const s = supervision(); return s ? pick(s) : 0; };
      fromStats(registry, 'appinfra_web_restarts_total', 'Web process restarts after a crash', read((s) => s.restarts));
      fromStats(registry, 'appinfra_web_recycles_total', 'Web processes replaced after limitMaxRequests', read((s) => s.recycles));
      const up = read((s) => s.workers);
      const configured = read((s) => s.configured);
      new Gauge({ name: 'appinfra_web_workers_up', help: 'Web processes serving', registers: [registry], collect() { this.set(up()); } });
      new Gauge({ name: 'appinfra_web_workers_configured', help: 'Web processes configured (uvicorn.workers)', registers: [registry], collect() { this.set(configured()); } });
    }
    this.loop = new LoopLag(registry, processName);
    engine.observe(this);
  }

  finished(p: PendingRequest, outcome: Outcome): void {
    if (p.arrived === 0) return;
    const route = p.route ?? '(default)';
    const now = performance.now();
    const taken = p.taken || now;
    let w = this.waits.get(route);
    if (w === undefined) this.waits.set(route, (w = this.queueWait.series(route)));
    w.observe((taken - p.arrived) / 1000);
    if (p.taken === 0) return;
    const key = `${route}\n${outcome}`;
    let h = this.handled.get(key);
    if (h === undefined) this.handled.set(key, (h = this.handlerTime.series(route, outcome)));
    h.observe((now - taken) / 1000);
  }

  close(): void {
    this.engine.observe(undefined);
    this.loop.close();
  }
}
