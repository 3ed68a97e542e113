import type { Registry } from 'prom-client';
import { LATENCY_BUCKETS } from './buckets.js';

/**
 * Counters and histograms for the per-request path as plain numbers: what one request
 * adds is a few increments on a series found once (prom-client's labelled children hash
 * their labels on every call). The registry renders them in prom-client's own formats,
 * so scrapes, aggregation across processes and the text format are prom-client's.
 */
export class HistogramSeries {
  /** Per bucket (not cumulative), the last one +Inf. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(readonly labels: Record<string, string>) {}

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
}

interface Value {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** A family of series by label values; `series(...)` is called once per route (or key), not per request. */
class Family<S extends { labels: Record<string, string> }> {
  private readonly all = new Map<string, S>();
  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Record<string, string>) => S,
  ) {}

  series(...values: string[]): S {
    const key = values.join('\u0000');
    let s = this.all.get(key);
    if (s === undefined) this.all.set(key, (s = this.make(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!])))));
    return s;
  }

  values(): Iterable<S> {
    return this.all.values();
  }
}

export function histogramFamily(registry: Registry, name: string, help: string, labelNames: readonly string[]): Family<HistogramSeries> {
  const family = new Family(labelNames, (labels) => new HistogramSeries(labels));
  const get = async () => {
    const values: Value[] = [];
    for (const s of family.values()) {
      let cumulative = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le: i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! : '+Inf', ...s.labels }, value: cumulative });
      }
      values.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${name}_count`, labels: s.labels, value: s.count });
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
  registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get, reset: () => undefined } as never);
  return family;
}

export function counterFamily(registry: Registry, name: string, help: string, labelNames: readonly string[]): Family<CounterSeries> {
  const family = new Family(labelNames, (labels) => new CounterSeries(labels));
  const get = async () => ({ name, help, type: 'counter', aggregator: 'sum', values: [...family.values()].map((s) => ({ value: s.value, labels: s.labels })) });
  registry.registerMetric({ name, help, type: 'counter', aggregator: 'sum', get, reset: () => undefined } as never);
  return family;
}
