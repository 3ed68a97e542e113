import { parseWith, normaliseKeys } from './validate.js';
import { ipcSchema, type IPCConfigData } from './schemas.js';

export type IPCConfigInit = Partial<IPCConfigData>;

/** How the web process and the engine talk. Units are seconds, as in the seed. */
export class IPCConfig implements IPCConfigData {
  /**
   * Accepted for compatibility with the seed. The transport is event driven, so no loop
   * polls at this interval; it is unused at run time.
   */
  pollInterval!: number;
  /** Default timeout of `Queue.get()` when called without one. */
  queueTimeout!: number;
  /**
   * Requests one web process may have waiting for the engine before it refuses more (503).
   * Per web process: with `uvicorn.workers` N the server as a whole holds up to N x maxPending.
   */
  maxPending!: number;
  /** Alias of `api.responseTimeout`, the one deadline; set one of them (see config/deadline.ts). */
  responseTimeout!: number;
  enableHealthReporting!: boolean;
  codec!: IPCConfigData['codec'];
  /** Largest frame (one envelope) either end of the pipe accepts; a larger one closes the link. */
  maxPayloadBytes!: number;

  constructor(init: IPCConfigInit | Record<string, unknown> = {}) {
    const originals = new Map<string, string>();
    const twice: string[] = [];
    Object.assign(this, parseWith(ipcSchema, normaliseKeys(init, 'ipc', originals, twice), 'ipc', originals, twice));
  }

  toJSON(): IPCConfigData {
    return { ...this };
  }
}
