import { SeqTable } from '../../../channel/seq-table.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Envelope } from '../../../contract/envelope.js';
import { ChannelClosedError, OverloadedError, toWireError } from '../../../errors/index.js';
import type { Link } from '../link.js';
import { BackboneLink } from './base.js';
import { backboneConnection, closeConnections, whenReady } from './connect.js';
import { BundleCodec, ENTRY_FIELD, EntryCodec } from './entry.js';
import { TurnBatch } from './batch.js';
import { BACKBONE_DEFAULTS, BackboneKeys, type RedisBackboneOptions } from './options.js';

/**
 * Adds the requests of one event-loop turn (one argument each after the limit: the value
 * of the entry's one field) while the stream holds fewer than the limit; returns how many
 * it added, in order. The length check and the adds are one step on the server: no other
 * web process slips in between.
 */
const ADMIT = `local room = tonumber(ARGV[1]) - redis.call('XLEN', KEYS[1])
local added = 0
for i = 2, #ARGV do
  if added >= room then break end
  redis.call('XADD', KEYS[1], '*', '${ENTRY_FIELD}', ARGV[i])
  added = added + 1
end
return added`;

const ALIVE_MS = 5000;
const REPLY_KINDS = ['response', 'error', 'chunk', 'end', 'control'] as const;
const CONTROL_KINDS = ['cancel', 'credit'] as const;

export interface WebBackboneStats {
  /** Requests refused because the request stream was full. */
  full: number;
  /** Requests failed because Redis could not be reached. */
  unreachable: number;
  /** Reply messages refused (bad or missing signature, stale, replayed, malformed). */
  refused: number;
}

/**
 * A web process's side of the Redis backbone, as one `Link`: requests go to the request
 * stream (read by the engine workers' consumer group), cancels and credit to the control
 * channel, and every answer comes back on this process's own reply channel (seed-000
 * `reply_to`), a pub/sub channel only it subscribes to: an answer is pushed, with no read
 * to issue again and nothing to trim. Nothing is lost that a reply stream would have
 * kept: while this process is not subscribed it is not connected either, and its requests
 * in flight have ended with a 503. While Redis is unreachable `isOpen` is false (admission
 * answers 503, so does `/_health`) and every request in flight ends at once with a 503;
 * the link itself stays, and serves again as soon as ioredis has reconnected.
 */
export class RedisWebLink extends BackboneLink implements Link {
  readonly carriesBytes = true;
  readonly name: string;
  readonly keys: BackboneKeys;
  readonly stats: WebBackboneStats = { full: 0, unreachable: 0, refused: 0 };
  private readonly cmd: Redis;
  /** Subscribed to this process's reply channel. */
  private readonly sub: Redis;
  private readonly entries: EntryCodec;
  private readonly replies: BundleCodec;
  private readonly control: BundleCodec;
  private readonly maxLength: number;
  /** Requests sent and not finished, and whether each is a stream (a unary request ends with its first answer). */
  private readonly outstanding = new SeqTable<Outstanding>();
  /** Requests not yet sent, per request stream (one per process group), admitted together. */
  private batches = new Map<string, Pending>();
  private batched = 0;
  /** Cancel and credit frames of this turn, sent as one bundle. */
  private controlOut: Buffer[] = [];
  private open = true;
  private cmdUp = false;
  private subUp = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: RedisBackboneOptions, replyTo: string) {
    super();
    // Unique across machines and restarts: workers learn from it where to answer and whether its process still lives.
    this.name = `${replyTo}@${hostname()}.${process.pid}.${randomBytes(3).toString('hex')}`;
    this.keys = new BackboneKeys(options.prefix);
    this.maxLength = options.maxLength ?? BACKBONE_DEFAULTS.maxLength;
    const ttl = options.ttlMs ?? BACKBONE_DEFAULTS.ttlMs;
    this.entries = new EntryCodec(options.codec, options.secret, ['request'], ttl);
    this.replies = new BundleCodec(options.codec, options.secret, REPLY_KINDS, ttl);
    this.control = new BundleCodec(options.codec, options.secret, CONTROL_KINDS, ttl);
    // Batched by `admitting` (./batch.ts), not by ioredis's auto-pipeline, which adds a turn to every call.
    this.cmd = backboneConnection(options.url, options.password, `appinfra-web:${this.name}`);
    this.cmd.defineCommand('appinfraAdmit', { numberOfKeys: 1, lua: ADMIT });
    this.sub = backboneConnection(options.url, options.password, `appinfra-web-replies:${this.name}`, { enableOfflineQueue: true, enableAutoPipelining: false });
    this.cmd.on('ready', this.onCmdReady);
    this.cmd.on('close', this.onDown);
    this.sub.on('ready', this.onSubReady);
    this.sub.on('close', this.onDown);
    this.sub.on('messageBuffer', this.onReply);
  }

  /** Connects; resolves once Redis answered (rejects when it cannot be reached at all). */
  async start(): Promise<void> {
    await Promise.all([this.cmd.connect(), this.sub.connect()]);
    await Promise.all([whenReady(this.cmd), whenReady(this.sub)]);
    await this.sub.subscribe(this.keys.reply(this.name));
    this.subUp = true;
    this.onCmdReady();
    this.heartbeat = setInterval(() => this.markAlive(), ALIVE_MS / 5);
    this.heartbeat.unref();
  }

  /** Both connections usable, and the reply channel subscribed: an answer sent now arrives. */
  private get up(): boolean {
    return this.cmdUp && this.subUp;
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
      const m = this.entries.seal(e);
      this.outstanding.add({ id: e.id, stream: e.stream === true, slot: -1 });
      const stream = this.keys.requests(this.options.groupOf?.[e.route ?? '']);
      let b = this.batches.get(stream);
      if (!b) this.batches.set(stream, (b = { ids: [], args: [] }));
      b.ids.push(e.id);
      b.args.push(m);
      this.admitting.kick(++this.batched);
      return;
    }
    if (e.kind === 'cancel') {
      this.outstanding.take(e.id);
      // Cancelled in the turn it was sent: it never leaves.
      for (const b of this.batches.values()) {
        const i = b.ids.indexOf(e.id);
        if (i < 0) continue;
        b.ids.splice(i, 1);
        b.args.splice(i, 1);
        return;
      }
    }
    this.controlOut.push(this.control.frame(e));
    this.controlling.kick();
  }





  protected async shutdown(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    clearInterval(this.heartbeat);
    this.cmd.off('close', this.onDown);
    this.sub.off('close', this.onDown);
    for (const h of this.closeHandlers) h('closed');
    await closeConnections(this.sub);
    if (this.cmd.status === 'ready') await this.cmd.del(this.keys.alive(this.name)).catch(() => undefined);
    await this.cmd.quit().catch(() => undefined);
    await closeConnections(this.cmd);
  }

  private readonly onCmdReady = (): void => {
    if (!this.open) return;
    this.cmdUp = true;
    this.markAlive();
  };

  /** After a reconnect: serving again only once the reply channel is subscribed (ioredis's own resubscribe is not awaited). */
  private readonly onSubReady = (): void => {
    if (!this.open || this.subUp) return;
    this.sub.subscribe(this.keys.reply(this.name)).then(
      () => {
        if (this.sub.status === 'ready') this.subUp = true;
      },
      () => undefined,
    );
  };

  /** Redis is gone, or this process's reply channel: every request in flight ends now with a 503, not at its deadline. */
  private readonly onDown = (): void => {
    const was = this.up;
    this.cmdUp = this.cmd.status === 'ready';
    this.subUp = this.subUp && this.sub.status === 'ready';
    if (!was) return;
    // Not yet sent: they never leave.
    const unsent = new Set<string>();
    for (const b of this.batches.values()) for (const id of b.ids) unsent.add(id);
    this.batches = new Map();
    this.batched = 0;
    const sent: string[] = [];
    for (const { id } of this.outstanding.values()) {
      if (!unsent.has(id)) sent.push(id);
      this.stats.unreachable++;
      this.answer(id, unreachable());
    }
    // Only the reply channel went (Redis cut this subscriber off past its pub/sub output-buffer
    // limit): the workers, still connected, would run on what ended here, a stream waiting
    // for credit forever. The command connection tells them to stop.
    if (this.cmdUp && sent.length > 0) {
      for (const id of sent) this.controlOut.push(this.control.frame({ kind: 'cancel', id }));
      this.controlling.kick();
    }
  };

  /** Sends the queued requests, one script call per request stream; those past a stream's room are refused with 503. */
  private readonly admitting = new TurnBatch(() => {
    const batches = this.batches;
    this.batches = new Map();
    this.batched = 0;
    for (const [stream, b] of batches) if (b.ids.length > 0) void this.admit(stream, b);
  }, 'poll');

  private admit(stream: string, { ids, args }: Pending): Promise<void> {
    return (this.cmd as unknown as Admit).appinfraAdmit(stream, this.maxLength, ...args).then(
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
  }

  /** This turn's cancels and credit, one bundle to the workers. Lost when Redis is down; so is the request it is about, which its worker abandons then. */
  private readonly controlling = new TurnBatch(() => {
    const frames = this.controlOut;
    if (frames.length === 0) return undefined;
    this.controlOut = [];
    return this.cmd.publish(this.keys.control, this.control.seal(frames)).catch(() => undefined);
  }, 'poll');

  private readonly onReply = (_channel: Buffer, message: Buffer): void => {
    const es = this.replies.open(message);
    if (typeof es === 'string') {
      this.stats.refused++;
      return;
    }
    for (const e of es) {
      const o = this.outstanding.get(e.id);
      if (o && (e.kind === 'response' || e.kind === 'error' || e.kind === 'end' || (e.kind === 'chunk' && !o.stream))) this.outstanding.delete(o);
      this.deliver(e);
    }
  };

  private markAlive(): void {
    // On the command connection's own: a worker that finds the key missing takes this process for dead, for good.
    if (this.cmdUp) this.cmd.set(this.keys.alive(this.name), '1', 'PX', ALIVE_MS).catch(() => undefined);
  }

  /** A framework answer for a request that never reached (or cannot come back from) a worker. */
  private answer(id: string, err: Error): void {
    if (!this.outstanding.take(id)) return;
    this.deliver({ kind: 'error', id, payload: toWireError(err) });
  }

}

interface Outstanding {
  readonly id: string;
  readonly stream: boolean;
  slot: number;
}

interface Pending {
  ids: string[];
  /** Each request's entry, the value of its one field. */
  args: Buffer[];
}

interface Admit {
  appinfraAdmit(key: string, max: number, ...entries: Buffer[]): Promise<number>;
}

function unreachable(): ChannelClosedError {
  return new ChannelClosedError('The Redis backbone is not reachable; retry once /_health answers 200');
}
