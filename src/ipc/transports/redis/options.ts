import type { BackboneInit } from '../../../contract/control.js';
import { codecByName, type Codec } from '../../codecs/index.js';

/**
 * What both sides of the Redis backbone agree on. Every web process and every engine
 * worker of one app must be started with the same `prefix`, `secret` and codec.
 */
export interface RedisBackboneOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Read from a file when the URL carries none: a password never travels in argv. */
  password?: string;
  /** Key namespace; the app's name by default (`appinfra:<name>`). */
  prefix: string;
  /** HMAC key that signs every entry: a client with Redis access but not this key cannot inject work. */
  secret: Buffer;
  codec: Codec;
  /** Entries the request stream may hold (queued + running); past it a web process answers 503 + Retry-After. */
  maxLength?: number;
  /** Worker: requests one engine worker runs at once; it reads no more until one ends. */
  maxInFlight?: number;
  /** Worker: an entry idle this long in another consumer's pending list is reclaimed (its worker is gone). */
  claimIdleMs?: number;
  /** Worker: handlers that may run twice (re-run on another worker when theirs died); others fail with 502. */
  idempotent?: readonly string[];
  /** Worker: the process group whose request stream it serves (`engine`: every handler in no group). */
  group?: string;
  /** Web: handler -> process group, for handlers whose requests go to their group's stream. */
  groupOf?: Readonly<Record<string, string>>;
  /** Signed entries older than this (or from further in the future) are refused; also the replay window. */
  ttlMs?: number;
}

export const BACKBONE_DEFAULTS = {
  maxLength: 10_000,
  maxInFlight: 256,
  claimIdleMs: 5_000,
  ttlMs: 30_000,
} as const;

/**
 * The keys of one app on Redis. One request stream per process group: `requests:<group>`
 * for the handlers of each group that runs in processes of its own, `requests:engine` for
 * every other handler.
 */
export class BackboneKeys {
  constructor(readonly prefix: string) {}
  requests(group = 'engine'): string {
    return `${this.prefix}:requests:${group}`;
  }
  /** The consumer group of the engine workers on a request stream. */
  readonly group = 'workers';
  reply(replyTo: string): string {
    return `${this.prefix}:reply:${replyTo}`;
  }
  /** Present while a web process lives (refreshed, with a TTL): workers drop work for one that is gone. */
  alive(replyTo: string): string {
    return `${this.prefix}:alive:${replyTo}`;
  }
  /** Pub/sub channel of cancel and credit envelopes, web process -> the worker that runs the request. */
  get control(): string {
    return `${this.prefix}:control`;
  }
}

/** The options a web process builds its link from (its `init` message, and the app's codec). */
export function webLinkOptions(init: BackboneInit, codec: string): RedisBackboneOptions {
  const o: RedisBackboneOptions = { url: init.url, prefix: init.prefix, secret: Buffer.from(init.secret, 'base64'), codec: codecByName(codec) };
  if (init.password !== undefined) o.password = init.password;
  if (init.maxLength !== undefined) o.maxLength = init.maxLength;
  if (init.groups !== undefined) o.groupOf = init.groups;
  return o;
}

/** A URL fit for a message or a summary: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}
