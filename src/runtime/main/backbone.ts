import type { Engine } from '../../engine/engine.js';
import { StateError } from '../../errors/index.js';
import { codecByName } from '../../ipc/codecs/index.js';
import { generateSecret } from '../../ipc/signing.js';
import { redactUrl, type RedisBackboneOptions } from '../../ipc/transports/redis/options.js';
import { RedisWorkerLink } from '../../ipc/transports/redis/worker-link.js';
import type { BackboneInit } from '../../contract/control.js';
import { backboneConnection } from '../../ipc/transports/redis/connect.js';
import type { RateLimitStore } from '../../ingress/buckets.js';
import { RedisBuckets } from '../../ingress/redis-buckets.js';


/**
 * Which parts of the server this process runs: HTTP (web processes), the engine, both, or
 * one process group's handlers (`group:NAME`, taken from that group's request stream).
 */
export type Role = 'all' | 'web' | 'engine' | `group:${string}`;
export const ROLES: readonly string[] = ['all', 'web', 'engine', 'group:NAME'];

/** Whether `role` is one of the roles, `group:` followed by a group name included. */
export function isRole(role: unknown): role is Role {
  return role === 'all' || role === 'web' || role === 'engine' || (typeof role === 'string' && /^group:[A-Za-z0-9_.-]+$/.test(role));
}

/** The Redis backbone as the builder and the app file describe it. */
export interface BackboneSpec {
  role: Role;
  /** `redis://` or `rediss://` (TLS); a password may be in it. */
  url: string;
  /** When the URL has none (read from a password file: never argv). */
  password?: string;
  /** Signs every entry; the same on every machine. Generated per run in the `all` role when not given. */
  secret?: Buffer;
  /** Key namespace (default `appinfra:<server name>`). */
  prefix?: string;
  maxLength?: number;
  maxInFlight?: number;
  claimIdleMs?: number;
  idempotent?: readonly string[];
}

/**
 * This process's share of the backbone: the engine worker (roles `all` and `engine`) and
 * what each web process needs to join (roles `all` and `web`), handed over in its `init`
 * message, never in argv or the environment.
 */
export class Backbone {
  private readonly workers: RedisWorkerLink[] = [];
  private buckets: RedisBuckets | undefined;
  private readonly secret: Buffer;
  private readonly prefix: string;

  constructor(
    private readonly spec: BackboneSpec,
    name: string,
    private readonly codec: string,
    /** Process groups with processes of their own: handler -> group, for the web processes' routing. */
    private readonly groupOf: Record<string, string> = {},
  ) {
    if (!spec.secret && spec.role !== 'all') {
      throw new StateError(
        `the ${spec.role} role needs the backbone secret its peers on other machines use: set runtime.platform.execution_ipc.redis.secret_file ` +
          '(or --secret-file, or withRedis({ secret })), the same file on every machine',
      );
    }
    this.secret = spec.secret ?? generateSecret();
    this.prefix = spec.prefix ?? `appinfra:${name}`;
  }

  get role(): Role {
    return this.spec.role;
  }

  get runsEngine(): boolean {
    return this.spec.role !== 'web';
  }

  get runsWeb(): boolean {
    return this.spec.role === 'all' || this.spec.role === 'web';
  }

  /** The process group this process serves alone (`--role group:NAME`). */
  get group(): string | undefined {
    return this.spec.role.startsWith('group:') ? this.spec.role.slice(6) : undefined;
  }

  /** The engine worker of this process (its first, in role `all` with process groups), once started. */
  get workerLink(): RedisWorkerLink | undefined {
    return this.workers[0];
  }

  /** Joins the consumer group of `group`'s request stream (`engine`: handlers in no group) and starts taking its requests for `engine`. */
  async startWorker(engine: Engine, group = 'engine'): Promise<void> {
    const link = new RedisWorkerLink({ ...this.options(), group });
    engine.attach(link, `backbone:${group}:${link.consumer}`);
    try {
      await link.start();
    } catch (err) {
      await link.stop();
      throw new StateError(`cannot reach the Redis backbone at ${redactUrl(this.spec.url)}: ${(err as Error).message}`);
    }
    this.workers.push(link);
  }

  /**
   * Rate-limit buckets in Redis, shared by the web roles of every machine (the in-memory
   * default is exact only within this process's web processes). Connects on first use.
   */
  rateStore(): RateLimitStore {
    this.buckets ??= new RedisBuckets(backboneConnection(this.spec.url, this.spec.password, `${this.prefix}:rate`), `${this.prefix}:rate`);
    return this.buckets;
  }

  /** What a web process needs to join. */
  webInit(): BackboneInit {
    const init: BackboneInit = { url: this.spec.url, prefix: this.prefix, secret: this.secret.toString('base64') };
    if (this.spec.password !== undefined) init.password = this.spec.password;
    if (this.spec.maxLength !== undefined) init.maxLength = this.spec.maxLength;
    if (Object.keys(this.groupOf).length > 0) init.groups = this.groupOf;
    return init;
  }

  /** Lets the worker finish what it runs (up to `timeoutS`), then leaves the group. */
  async stop(timeoutS: number): Promise<void> {
    await this.buckets?.close();
    await Promise.all(
      this.workers.map(async (w) => {
        await w.drain(timeoutS * 1000);
        await w.stop();
      }),
    );
  }

  private options(): RedisBackboneOptions {
    const s = this.spec;
    const o: RedisBackboneOptions = { url: s.url, prefix: this.prefix, secret: this.secret, codec: codecByName(this.codec) };
    if (s.password !== undefined) o.password = s.password;
    if (s.maxLength !== undefined) o.maxLength = s.maxLength;
    if (s.maxInFlight !== undefined) o.maxInFlight = s.maxInFlight;
    if (s.claimIdleMs !== undefined) o.claimIdleMs = s.claimIdleMs;
    if (s.idempotent) o.idempotent = s.idempotent;
    return o;
  }
}
