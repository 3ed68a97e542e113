import type { WebSpec } from '../adapter/app.js';

/** Control messages between the main process and a web process (Node's IPC channel). */
export type ToWeb =
  | { type: 'init'; spec: WebSpec; replyTo: string; supervisor: SupervisorStatus }
  | { type: 'status'; supervisor: SupervisorStatus }
  | { type: 'drain'; timeout: number };

export type FromWeb =
  | { type: 'ready'; host: string; port: number }
  | { type: 'fatal'; message: string }
  | { type: 'served'; count: number };

/** What the supervisor tells a web process so `/_health` can report it. */
export interface SupervisorStatus {
  restarts: number;
  workers: number;
  failed: boolean;
}

/** The data link is the child's fd 4; fd 3 is Node's IPC channel (control). */
export const DATA_FD = 4;
