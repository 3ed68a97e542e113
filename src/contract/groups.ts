/**
 * Process groups: engine handlers served by processes of their own, reached from the main
 * process's engine over the signed tcp_local transport. Plain data only: a group's code
 * travels as a module URL its processes import.
 */

/** One process group, as the builder and the config file declare it. */
export interface GroupSpec {
  name: string;
  /** URL (file:) of the module whose exported functions are the handlers. */
  module: string;
  processes: number;
  handlers: string[];
  /** Handlers marked idempotent: tries on another process of the group when the one serving dies. */
  retry: Record<string, number>;
}

/** The tcp_local listener's settings (seed 000 `execution_ipc`). */
export interface TcpLocalSpec {
  host: string;
  port: number;
  ttlSeconds: number;
  nonceCacheSize: number;
  maxPayloadBytes: number;
  /** Read the secret from this file instead of generating one per run. */
  secretFile: string | null;
  /** Bind a host that is not loopback (explicit opt-in). */
  allowRemote: boolean;
  /** Write host, port, secret and the groups here (mode 0600) for processes started by hand. */
  connectFile: string | null;
  /** The web processes reach the engine over tcp_local too, instead of their inherited pipe. */
  web: boolean;
}

/** Where and how to reach the main process's tcp_local listener: given over the control channel or a connect file, never argv or env. */
export interface TcpJoin {
  codec: string;
  host: string;
  port: number;
  ttlSeconds: number;
  nonceCacheSize: number;
  maxPayloadBytes: number;
  /** base64 of the secret. */
  secret: string;
}

/** What a group process needs to join its group. */
export interface GroupJoin extends TcpJoin {
  group: string;
  module: string;
  handlers: string[];
}

export type ToGroup = { type: 'init'; join: GroupJoin; spawnId: string } | { type: 'drain'; timeout: number };
export type FromGroup = { type: 'hello' } | { type: 'fatal'; message: string };

/** What a group process says first on its tcp_local link (a signed `control` envelope). */
export interface GroupHello {
  type: 'hello';
  role: 'group';
  group: string;
  pid: number;
  /** Set by a process the server started: which of its slots this is. */
  spawnId?: string;
}

export type GroupProcessState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping';

export interface GroupProcessStatus {
  /** Slot number, or "external" for a process started by hand. */
  slot: number | 'external';
  pid: number | undefined;
  state: GroupProcessState;
  /** Requests in flight on this process now. */
  pending: number;
  /** Requests it answered (reply, error or end of stream). */
  served: number;
  restarts: number;
}

export interface GroupStatus {
  name: string;
  /** ok: every configured process ready; degraded: some; failed: restarts used up, none ready. */
  state: 'ok' | 'degraded' | 'failed';
  processes: GroupProcessStatus[];
  restarts: number;
}
