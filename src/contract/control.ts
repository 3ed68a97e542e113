import type { WebSpec } from './web-spec.js';

/** Control messages between the main process and a web process (Node's IPC channel). */
export type ToWeb =
  | { type: 'init'; spec: WebSpec; replyTo: string; supervisor: SupervisorStatus; backbone?: BackboneInit }
  | { type: 'status'; supervisor: SupervisorStatus }
  | { type: 'drain'; timeout: number };

export type FromWeb =
  /** The web process listens for control messages: the main process sends `init`. */
  | { type: 'hello' }
  | { type: 'ready'; host: string; port: number }
  | { type: 'fatal'; message: string }
  /** Sent each time `count` reaches a multiple of `uvicorn.limitMaxRequests`: time to recycle this process. */
  | { type: 'served'; count: number };

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
}

/** The data link is the child's fd 4; fd 3 is Node's IPC channel (control). */
export const DATA_FD = 4;

/** The supervisor's part of a `/_health` body: the same fields whichever process answers. */
export function supervisorHealth(s: SupervisorStatus): Record<string, unknown> {
  return { restarts: s.restarts, workers: s.workers, workersConfigured: s.configured, ...(s.failed ? { failed: true } : {}) };
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
}
