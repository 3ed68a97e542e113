import { BuildError } from '../../errors/index.js';
import { Queue } from '../../engine/queue.js';
import { IPCConfig, type IPCConfigInit } from '../config/ipc.js';
import type { IPCConfigData } from '../config/schemas.js';
import type { ServerBuilder } from './server.js';

/** Focused builder for subprocess mode and its IPC (seed `SubprocessConfigurer`). */
export class SubprocessConfigurer {
  constructor(private readonly parent: ServerBuilder) {}

  /**
   * Enables subprocess mode: the HTTP server runs in a child process; requests reach
   * `requestQ` in this process and what you put on `responseQ` goes back by `id`.
   */
  withIpc(requestQ: Queue<any>, responseQ: Queue<any>): this {
    if (!(requestQ instanceof Queue) || !(responseQ instanceof Queue)) {
      throw new BuildError('withIpc(requestQ, responseQ): pass two appinfra Queue objects (new Queue())');
    }
    if (requestQ === responseQ) throw new BuildError('withIpc: requestQ and responseQ must be two different queues');
    this.parent._state.queues = { requestQ, responseQ };
    return this;
  }

  /** Everything the web process logs or prints goes to this file (its directory is created). */
  withLogFile(path: string): this {
    this.parent._state.api.logFile = path;
    return this;
  }

  /** Kept for compatibility with the seed: the transport is event driven, so nothing polls. */
  withPollInterval(seconds: number): this {
    return this.set('pollInterval', seconds);
  }

  withMaxPending(maxPending: number): this {
    return this.set('maxPending', maxPending);
  }

  /**
   * Alias of `ServerBuilder.withTimeout` (the seed's `api.responseTimeout`): the one
   * deadline, in seconds, of forward routes and of `ipc.submit` in route modules.
   */
  withResponseTimeout(seconds: number): this {
    return this.set('responseTimeout', seconds);
  }

  /** Wire format of envelopes: `json` (default), `msgpack` (msgpackr) or `v8` (structured clone). */
  withCodec(codec: IPCConfigData['codec']): this {
    return this.set('codec', codec);
  }

  /** Restart a crashed web process after `delay` seconds (x1.5 per crash, capped), at most `maxRestarts` times (0 = unlimited). */
  withAutoRestart(enabled = true, delay?: number, maxRestarts?: number): this {
    const api = this.parent._state.api;
    api.autoRestart = enabled;
    if (delay !== undefined) api.restartDelay = delay;
    if (maxRestarts !== undefined) api.maxRestarts = maxRestarts;
    return this;
  }

  withConfig(config: IPCConfig | IPCConfigInit): this {
    this.parent._state.ipc = config instanceof IPCConfig ? new IPCConfig(config.toJSON()) : new IPCConfig(config);
    return this;
  }

  done(): ServerBuilder {
    return this.parent;
  }

  private set<K extends keyof IPCConfigData>(key: K, value: IPCConfigData[K]): this {
    (this.parent._state.ipc as IPCConfigData)[key] = value;
    return this;
  }
}
