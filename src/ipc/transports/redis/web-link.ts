import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Envelope } from '../../../contract/envelope.js';
import { ChannelClosedError, OverloadedError, toWireError } from '../../../errors/index.js';
import type { Link } from '../link.js';
import { BackboneLink } from './base.js';
import { backboneConnection, closeConnections, nextStreamId, whenReady, type StreamReply } from './connect.js';
import { EntryCodec, packMessage } from './entry.js';
import { NaturalBatch } from './batch.js';
import { BACKBONE_DEFAULTS, BackboneKeys, type RedisBackboneOptions } from './options.js';

/**
 * Adds the requests of one event-loop turn (4 arguments each after the limit) while the
 * stream holds fewer than the limit; returns how many it added, in order. The length
 * check and the adds are one step on the server: no other web process slips in between.
 */
const ADMIT = `local room = tonumber(ARGV[1]) - redis.call('XLEN', KEYS[1])
local added = 0
for i = 2, #ARGV, 4 do
  if added >= room then break end
  redis.call('XADD', KEYS[1], '*', 'f', ARGV[i], 't', ARGV[i + 1], 'n', ARGV[i + 2], 's', ARGV[i + 3])
  added = added + 1
end
return added`;

const ALIVE_MS = 5000;
const REPLY_KINDS = ['response', 'error', 'chunk', 'end', 'control'] as const;

export interface WebBackboneStats {
  /** Requests refused because the request stream was full. */
  full: number;
  /** Requests failed because Redis could not be reached. */
  unreachable: number;
  /** Reply entries refused (bad or missing signature, stale, replayed, malformed). */
  refused: number;
}

/**
 * A web process's side of the Redis backbone, as one `Link`: requests go to the request
 * stream (read by the engine workers' consumer group), cancels and credit to the control
 * channel, and every answer comes back on this process's own reply stream (seed-000
 * `reply_to`). While Redis is unreachable `isOpen` is false (admission answers 503, so
 * does `/_health`) and every request in flight ends at once with a 503; the link itself
 * stays, and serves again as soon as ioredis has reconnected.
 */
export class RedisWebLink extends BackboneLink implements Link {
  readonly name: string;
  readonly keys: BackboneKeys;
  readonly stats: WebBackboneStats = { full: 0, unreachable: 0, refused: 0 };
  private readonly cmd: Redis;
  private readonly reader: Redis;
  private readonly entries: EntryCodec;
  private readonly maxLength: number;
  /** Requests sent and not finished: id -> whether it is a stream (a unary request ends with its first answer). */
  private readonly outstanding = new Map<string, boolean>();
  /** Requests not yet sent, admitted together; their XADD arguments. */
  private batch: string[] = [];
  private batchArgs: (Buffer | number | string)[] = [];
  private open = true;
  private up = false;
  /** Last reply entry read. The stream is this process's own, so it is read from its start. */
  private lastId = '0-0';
  private heartbeat: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;

  constructor(private readonly options: RedisBackboneOptions, replyTo: string) {
    super();
    // Unique across machines and restarts: workers learn from it where to answer and whether its process still lives.
    this.name = `${replyTo}@${hostname()}.${process.pid}.${randomBytes(3).toString('hex')}`;
    this.keys = new BackboneKeys(options.prefix);
    this.maxLength = options.maxLength ?? BACKBONE_DEFAULTS.maxLength;
    this.entries = new EntryCodec(options.codec, options.secret, REPLY_KINDS, options.ttlMs ?? BACKBONE_DEFAULTS.ttlMs);
    // Batched by `admitting` (./batch.ts), not by ioredis's auto-pipeline, which adds a turn to every call.
    this.cmd = backboneConnection(options.url, options.password, `appinfra-web:${this.name}`);
    this.cmd.defineCommand('appinfraAdmit', { numberOfKeys: 1, lua: ADMIT });
    this.reader = backboneConnection(options.url, options.password, `appinfra-web-reader:${this.name}`, { autoResendUnfulfilledCommands: false, enableAutoPipelining: false });
    this.cmd.on('ready', this.onReady);
    this.cmd.on('close', this.onDown);
  }

  /** Connects; resolves once Redis answered (rejects when it cannot be reached at all). */
  async start(): Promise<void> {
    await Promise.all([this.cmd.connect(), this.reader.connect()]);
    await Promise.all([whenReady(this.cmd), whenReady(this.reader)]);
    this.onReady();
    this.heartbeat = setInterval(() => this.markAlive(), ALIVE_MS / 5);
    this.heartbeat.unref();
    this.reading = this.readLoop();
  }

  get isOpen(): boolean {
    return this.open && this.up;
  }

  get congested(): boolean {
    return false;
  }

  /** Requests in flight on the backbone (sent, not yet finished). */
  get inFlight(): number {
    return this.outstanding.size;
  }

  send(e: Envelope): void {
    if (!this.open) return;
    if (e.kind === 'request') {
      const x = this.entries.seal(e);
      this.outstanding.set(e.id, e.stream === true);
      this.batch.push(e.id);
      this.batchArgs.push(x.f, x.t, x.n, x.s);
      this.admitting.kick();
      return;
    }
    if (e.kind === 'cancel') {
      this.outstanding.delete(e.id);
      // Cancelled in the turn it was sent: it never leaves.
      const i = this.batch.indexOf(e.id);
      if (i >= 0) {
        this.batch.splice(i, 1);
        this.batchArgs.splice(i * 4, 4);
        return;
      }
    }
    const x = this.entries.seal(e);
    // Lost when Redis is down; so is the request it is about, which its worker abandons then.
    this.cmd.publish(this.keys.control, packMessage(x)).catch(() => undefined);
  }





  protected async shutdown(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    clearInterval(this.heartbeat);
    this.cmd.off('close', this.onDown);
    for (const h of this.closeHandlers) h('closed');
    const readerClosed = closeConnections(this.reader);
    await this.reading;
    await readerClosed;
    if (this.cmd.status === 'ready') await this.cmd.del(this.keys.reply(this.name), this.keys.alive(this.name)).catch(() => undefined);
    await this.cmd.quit().catch(() => undefined);
    await closeConnections(this.cmd);
  }

  private readonly onReady = (): void => {
    if (!this.open) return;
    // After a Redis restart the stream is new and its ids start again from the bottom.
    if (!this.up) this.lastId = '0-0';
    this.up = true;
    this.markAlive();
  };

  /** Redis is gone: every request in flight ends now with a 503, not at its deadline. */
  private readonly onDown = (): void => {
    if (!this.up) return;
    this.up = false;
    for (const id of [...this.outstanding.keys()]) {
      this.stats.unreachable++;
      this.answer(id, unreachable());
    }
  };

  /** Sends the queued requests in one script call; those past the stream's room are refused with 503. */
  private readonly admitting = new NaturalBatch(() => {
    const ids = this.batch;
    const args = this.batchArgs;
    this.batch = [];
    this.batchArgs = [];
    if (ids.length === 0) return undefined;
    return (this.cmd as unknown as Admit).appinfraAdmit(this.keys.requests(), this.maxLength, ...args).then(
      (added) => {
        for (const id of ids.slice(added)) {
          this.stats.full++;
          this.answer(id, new OverloadedError(`The backbone is at capacity (${this.maxLength} requests queued), retry later`));
        }
      },
      () => {
        for (const id of ids) {
          this.stats.unreachable++;
          this.answer(id, unreachable());
        }
      },
    );
  });

  private markAlive(): void {
    if (this.up) this.cmd.set(this.keys.alive(this.name), '1', 'PX', ALIVE_MS).catch(() => undefined);
  }

  /** A framework answer for a request that never reached (or cannot come back from) a worker. */
  private answer(id: string, err: Error): void {
    if (!this.outstanding.delete(id)) return;
    this.deliver({ kind: 'error', id, payload: toWireError(err) });
  }

  private async readLoop(): Promise<void> {
    const key = this.keys.reply(this.name);
    while (this.open) {
      let reply: StreamReply;
      try {
        if (this.reader.status !== 'ready') await whenReady(this.reader);
        reply = (await this.reader.callBuffer('XREAD', 'COUNT', 1024, 'BLOCK', 2000, 'STREAMS', key, this.lastId)) as StreamReply;
      } catch {
        if (!this.open) return;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!reply) continue;
      const entries = reply[0]![1];
      for (const [id, fields] of entries) {
        this.lastId = id.toString();
        const e = this.entries.open(fields);
        if (typeof e === 'string') {
          this.stats.refused++;
          continue;
        }
        const stream = this.outstanding.get(e.id);
        if (e.kind === 'response' || e.kind === 'error' || e.kind === 'end' || (e.kind === 'chunk' && stream === false)) this.outstanding.delete(e.id);
        this.deliver(e);
      }
      // Read once, by this process only: trim what was read.
      this.cmd.xtrim(key, 'MINID', nextStreamId(this.lastId)).catch(() => undefined);
    }
  }

}

interface Admit {
  appinfraAdmit(key: string, max: number, ...entries: (Buffer | number | string)[]): Promise<number>;
}

function unreachable(): ChannelClosedError {
  return new ChannelClosedError('The Redis backbone is not reachable; retry once /_health answers 200');
}
