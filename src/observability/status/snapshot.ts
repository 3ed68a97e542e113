/**
 * What the status page shows, computed from the same aggregated figures as `/metrics`
 * (prom-client's JSON of every process): cumulative counts, which the page turns into
 * rates and quantiles by difference between two snapshots.
 */
export interface RouteFigures {
  route: string;
  /** Responses so far, and those with a 5xx status. */
  count: number;
  errors: number;
  /** Cumulative counts per latency bucket (`le` seconds), the last one +Inf. */
  buckets: number[];
}

export interface ProcessFigures {
  name: string;
  role: 'web' | 'engine' | 'direct';
  lagP50: number;
  lagP99: number;
  lagMax: number;
  pending: number;
  inFlight: number;
  connected: boolean;
  /** `not answering`: the process did not send its figures in time (an engine busy in a long synchronous task). */
  state: 'up' | 'not answering';
}

export interface StatusSnapshot {
  /** Epoch ms. */
  t: number;
  /** Upper bounds of `buckets` (seconds); +Inf last. */
  le: number[];
  routes: RouteFigures[];
  processes: ProcessFigures[];
  supervisor: { restarts: number; recycles: number; workersUp: number; configured: number } | null;
  rejections: Record<string, number>;
  streams: { open: number; chunks: number; stalls: number };
}

interface Value {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
}
interface Metric {
  name: string;
  values: Value[];
}

export function statusSnapshot(metrics: unknown[], now = Date.now()): StatusSnapshot {
  const byName = new Map<string, Value[]>();
  for (const m of metrics as Metric[]) byName.set(m.name, m.values);
  const values = (name: string): Value[] => byName.get(name) ?? [];
  const single = (name: string): number | undefined => values(name)[0]?.value;

  const routes = new Map<string, RouteFigures>();
  const route = (name: string): RouteFigures => {
    let r = routes.get(name);
    if (!r) routes.set(name, (r = { route: name, count: 0, errors: 0, buckets: [] }));
    return r;
  };
  for (const v of values('appinfra_http_requests_total')) {
    const r = route(String(v.labels.route));
    r.count += v.value;
    if (Number(v.labels.status) >= 500) r.errors += v.value;
  }
  const les = new Set<number>();
  for (const v of values('appinfra_http_request_duration_seconds')) if (v.metricName?.endsWith('_bucket')) les.add(v.labels.le === '+Inf' ? Infinity : Number(v.labels.le));
  const le = [...les].sort((a, b) => a - b);
  for (const v of values('appinfra_http_request_duration_seconds')) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const r = route(String(v.labels.route));
    const i = le.indexOf(v.labels.le === '+Inf' ? Infinity : Number(v.labels.le));
    if (r.buckets.length !== le.length) r.buckets = new Array<number>(le.length).fill(0);
    r.buckets[i] = (r.buckets[i] ?? 0) + v.value;
  }

  const processes = new Map<string, ProcessFigures>();
  const proc = (name: string): ProcessFigures => {
    let p = processes.get(name);
    if (!p) processes.set(name, (p = { name, role: name === 'engine' ? 'engine' : name === 'direct' ? 'direct' : 'web', lagP50: 0, lagP99: 0, lagMax: 0, pending: 0, inFlight: 0, connected: true, state: 'up' }));
    return p;
  };
  for (const v of values('appinfra_event_loop_lag_seconds')) {
    const p = proc(String(v.labels.process));
    if (v.labels.quantile === '0.5') p.lagP50 = v.value;
    else if (v.labels.quantile === '0.99') p.lagP99 = v.value;
    else p.lagMax = v.value;
  }
  for (const v of values('appinfra_ipc_pending')) proc(String(v.labels.process)).pending = v.value;
  for (const v of values('appinfra_engine_pending')) proc(String(v.labels.process)).pending = v.value;
  for (const v of values('appinfra_http_requests_in_flight')) proc(String(v.labels.process)).inFlight = v.value;
  for (const v of values('appinfra_ipc_connected')) proc(String(v.labels.process)).connected = v.value === 1;

  // Web processes without the engine's figures: the main process did not answer the scrape in time.
  const list = [...processes.values()];
  if (list.some((p) => p.role === 'web') && !processes.has('engine')) {
    processes.set('engine', { name: 'engine', role: 'engine', lagP50: -1, lagP99: -1, lagMax: -1, pending: -1, inFlight: 0, connected: false, state: 'not answering' });
  }
  const configured = single('appinfra_web_workers_configured');
  const rejections: Record<string, number> = {};
  for (const v of values('appinfra_admission_rejections_total')) rejections[String(v.labels.reason)] = v.value;
  return {
    t: now,
    le: le.map((x) => (x === Infinity ? -1 : x)),
    routes: [...routes.values()].sort((a, b) => a.route.localeCompare(b.route)),
    processes: [...processes.values()].sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'engine' ? -1 : 1)),
    supervisor:
      configured === undefined
        ? null
        : { restarts: single('appinfra_web_restarts_total') ?? 0, recycles: single('appinfra_web_recycles_total') ?? 0, workersUp: single('appinfra_web_workers_up') ?? 0, configured },
    rejections,
    streams: { open: sum(values('appinfra_streams_open')), chunks: single('appinfra_stream_chunks_total') ?? 0, stalls: single('appinfra_stream_credit_stalls_total') ?? 0 },
  };
}

function sum(vs: Value[]): number {
  return vs.reduce((a, v) => a + v.value, 0);
}
