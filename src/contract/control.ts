import type { WebSpec } from './web-spec.js';
import type { BucketRule, TakeResult } from './rate.js';
import type { GroupStatus, TcpJoin } from './groups.js';

/** Whether V8 took the web bundle's code cache: `absent` and `rejected` compile from source and write one; `off` has none. */
export type CodeCacheState = 'accepted' | 'rejected' | 'absent' | 'off';

/** Control messages between the main process and a web process (Node's IPC channel). */
export type ToWeb =
  /** With `tcp`, the web process reaches the engine over the signed tcp_local transport instead of its pipe; with `backbone`, over Redis. */
  | { type: 'init'; spec: WebSpec; replyTo: string; supervisor: SupervisorStatus; tcp?: TcpJoin; backbone?: BackboneInit }
  | { type: 'status'; supervisor: SupervisorStatus }
  | { type: 'drain'; timeout: number }
  /** The answers to a web process's `rate` takes, in its order: the buckets live in the main process, shared by every worker. */
  | { type: 'rate'; first: number; results: TakeResult[] }
  /** Metrics: send this process's figures (`metrics` with the same id). */
  | { type: 'collect'; id: number }
  /** Metrics: every process's figures, for the web process's `scrape` with this id. */
  | { type: 'scraped'; id: number; metrics: MetricsJson[] };

export type FromWeb =
  /** The web process listens for control messages: the main process sends `init`. */
  | { type: 'hello' }
  /** `codeCache`: whether V8 took the bundle's code cache (built package only). */
  | { type: 'ready'; host: string; port: number; codeCache?: CodeCacheState }
  /** `callback`: a lifecycle callback failed (the message is the CallbackError's). */
  | { type: 'fatal'; message: string; callback?: { stage: string; name: string } }
  /** Sent each time `count` reaches a multiple of `uvicorn.limitMaxRequests`: time to recycle this process. */
  | { type: 'served'; count: number }
  /**
   * Take one token from each of these rate-limit buckets kept by the main process (answered
   * by one `rate` ToWeb): the takes of one event-loop turn travel together, numbered from `first`.
   */
  | { type: 'rate'; first: number; takes: RateTake[] }
  /** Metrics: this process's figures, answering `collect`. */
  | { type: 'metrics'; id: number; metrics: MetricsJson }
  /** Metrics: a client asked this web process for /metrics or /_status: gather every process's figures. */
  | { type: 'scrape'; id: number };

/** One take of a `rate` message: which bucket, which client, and the bucket's rule. */
export interface RateTake {
  bucket: string;
  key: string;
  rule: BucketRule;
}

/** One process's metrics as prom-client's `registry.getMetricsAsJSON()` gives them (plain data). */
export type MetricsJson = unknown[];

/** What the supervisor tells a web process so `/_health` can report it. */
export interface SupervisorStatus {
  /** Restarts after crashes since the server started. */
  restarts: number;
  /** Web processes alive now. */
  workers: number;
  /** Web processes the server is configured to run (`uvicorn.workers`). */
  configured: number;
  /** True once the supervisor gave up restarting a web process (restarts used up). */
  failed: boolean;
  /** Process groups, per group and per process (absent without groups). */
  groups?: GroupStatus[];
}

/** The data link is the child's fd 4; fd 3 is Node's IPC channel (control). */
export const DATA_FD = 4;

/** The supervisor's part of a `/_health` body: the same fields whichever process answers. */
export function supervisorHealth(s: SupervisorStatus): Record<string, unknown> {
  return { restarts: s.restarts, workers: s.workers, workersConfigured: s.configured, ...(s.failed ? { failed: true } : {}), ...(s.groups ? { groups: s.groups } : {}) };
}

/** A `/_health` answer: status and JSON body. */
export interface HealthAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * What a web process needs to join the Redis backbone. Sent in `init` over the control
 * channel: the secret and a password never appear in argv or the environment.
 */
export interface BackboneInit {
  url: string;
  password?: string;
  prefix: string;
  /** base64 of the signing secret. */
  secret: string;
  maxLength?: number;
  /** Handlers served by a process group, and its name: their requests go to that group's stream. */
  groups?: Record<string, string>;
}
