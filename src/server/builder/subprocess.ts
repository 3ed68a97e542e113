import { BuildError } from '../../errors/index.js';
import { Queue } from '../../engine/queue.js';
import { IPCConfig, type IPCConfigInit } from '../config/ipc.js';
import type { IPCConfigData } from '../config/schemas.js';
import type { ServerBuilder } from './server.js';
import { ROLES, isRole, type BackboneSpec, type Role } from '../../runtime/main/backbone.js';
import { SECRET_BYTES } from '../../ipc/signing.js';

/** `withRedis` options: the backbone without the role (`withRole`). */
export type RedisOptions = Omit<BackboneSpec, 'role'>;

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

  /**
   * Runs the web processes and the engine on the Redis backbone instead of the pipe:
   * requests travel through Redis Streams, so web processes and engine workers may be on
   * different machines (see "From one machine to many" in the README). Needs `withIpc`.
   */
  withRedis(options: RedisOptions | string): this {
    const o = typeof options === 'string' ? { url: options } : options;
    if (!o || typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url)) {
      throw new BuildError('withRedis({ url }): url must be a redis:// or rediss:// URL');
    }
    if (o.secret !== undefined && (!Buffer.isBuffer(o.secret) || o.secret.length < SECRET_BYTES)) {
      throw new BuildError(`withRedis({ secret }): secret must be a Buffer of at least ${SECRET_BYTES} bytes (loadSecret(path) reads one from a file)`);
    }
    const role = this.parent._state.backbone?.role ?? 'all';
    this.parent._state.backbone = { ...o, role };
    return this;
  }

  /**
   * Which part this process runs on the backbone: `web` (HTTP only), `engine` (handlers
   * only, no HTTP) or `all` (both, the default). Needs `withRedis`.
   */
  withRole(role: Role): this {
    if (!isRole(role)) throw new BuildError(`withRole(role): got ${JSON.stringify(role)}, expected one of ${ROLES.join(', ')}`);
    const b = this.parent._state.backbone;
    if (!b) throw new BuildError('withRole(role): roles split a server across machines over Redis; call .withRedis(url) first');
    b.role = role;
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
