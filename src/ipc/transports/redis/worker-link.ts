import { SeqTable } from '../../../channel/seq-table.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Envelope } from '../../../contract/envelope.js';
import { wireErrorOf } from '../../../errors/index.js';
import type { Link } from '../link.js';
import { BackboneLink } from './base.js';
import { backboneConnection, closeConnections, whenReady, type StreamReply } from './connect.js';
import { BundleCodec, EntryCodec } from './entry.js';
import type { RefusalReason } from '../../signing.js';
import { EARLY, TurnBatch } from './batch.js';
import { BACKBONE_DEFAULTS, BackboneKeys, type RedisBackboneOptions } from './options.js';

export interface WorkerBackboneStats {
  /** Requests taken from the request stream (first delivery). */
  taken: number;
  /** Entries refused: no valid signature (injected, stale, replayed) or not a request. */
  refused: number;
  /** Requests dropped unstarted because their deadline had passed (the web process answered 504 at it). */
  expired: number;
  /** Requests dropped or stopped because their web process is gone. */
  orphaned: number;
  /** Entries of a dead worker claimed here. */
  reclaimed: number;
  /** Of those, requests of idempotent handlers run again here. */
  rerun: number;
  /** Of those, requests failed with 502 APPINFRA_ERR_WORKER_LOST (at-most-once). */
  lost: number;
  /** Requests abandoned because Redis went away while they ran. */
  abandoned: number;
}

interface Running {
  readonly id: string;
  entry: string;
  replyTo: string;
  slot: number;
}

const REQUEST_KINDS = ['request'] as const;
const CONTROL_KINDS = ['cancel', 'credit'] as const;
const REPLY_KINDS = ['response', 'error', 'chunk', 'end', 'control'] as const;

/**
 * One turn's output in one call: acknowledges and deletes the finished entries (ARGV[2]
 * of them, after the group name), then publishes each (channel, message) pair that
 * follows. Atomic: an entry is never acknowledged without its answer having left.
 */
const FINISH = `local n = tonumber(ARGV[2])
for i = 3, 2 + n, 500 do
  local last = math.min(i + 499, 2 + n)
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, last))
  redis.call('XDEL', KEYS[1], unpack(ARGV, i, last))
end
for i = 3 + n, #ARGV, 2 do
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return n`;

/**
 * An engine worker's side of the Redis backbone, as one `Link` the Engine attaches: it
 * takes requests from the request stream through the consumer group (each entry goes to
 * one worker), at most `maxInFlight` at a time, and sends every reply, chunk and end to
 * reply channel its request names (pub/sub: one signed bundle per web process and turn).
 * Cancels and credit arrive on the control channel, bundled the same way.
 *
 * An entry stays in this consumer's pending list until its answer is out, then is
 * acknowledged and deleted: the request stream holds only work queued or running, so its
 * length is what admission bounds. Running entries are touched (XCLAIM JUSTID) so their
 * idle time stays low; an entry idle past `claimIdleMs` belongs to a dead worker and a
 * live one takes it with XAUTOCLAIM: an idempotent handler runs it again, any other
 * answers 502 (at-most-once: the client gets a clear error, never two answers).
 */
export class RedisWorkerLink extends BackboneLink implements Link {
  readonly name: string;
  readonly keys: BackboneKeys;
  /** The request stream this worker serves: its process group's. */
  readonly stream: string;
  readonly stats: WorkerBackboneStats = { taken: 0, refused: 0, expired: 0, orphaned: 0, reclaimed: 0, rerun: 0, lost: 0, abandoned: 0 };
  private readonly cmd: Redis;
  private readonly reader: Redis;
  private readonly sub: Redis;
  private readonly requests: EntryCodec;
  /** Bundles: replies out (one message per web process and turn), cancels and credit in. */
  private readonly replies: BundleCodec;
  private readonly control: BundleCodec;
  private readonly maxInFlight: number;
  private readonly claimIdleMs: number;
  private readonly idempotent: ReadonlySet<string>;
  private readonly running = new SeqTable<Running>();
  /** Entries to acknowledge once Redis is back (their requests were abandoned while it was away). */
  private unacked: string[] = [];
  /** Reply frames per web process, and finished entries, waiting for the end of the turn. */
  private outbox = new Map<string, Buffer[]>();
  private toAck: string[] = [];
  private queued = 0;
  /** Web processes found gone: their queued requests are dropped unstarted. */
  private readonly goneWebs = new Set<string>();
  /** Web processes this worker took requests from lately, and when: the ones whose presence is checked. */
  private readonly seenWebs = new Map<string, number>();
  private open = true;
  private up = false;
  private capacity: (() => void) | undefined;
  private rounds = 0;
  private lastRefusalWarning = 0;
  private maintenance: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  /**
   * Between a read's return and the next read: the replies and acks of what it brought go on
   * the reader's connection, corked, and leave with the next XREADGROUP in one write (one
   * syscall and one Redis wake-up per read instead of two).
   */
  private readerIdle = false;
  private corked = false;
  /** Finish calls not yet answered, all on one connection: a turn's output never overtakes the one before on the other. */
  private finishing: { conn: Redis; n: number } | undefined;
  /** A flush waits for the other connection's finish calls to be answered. */
  private held = false;

  constructor(private readonly options: RedisBackboneOptions) {
    super();
    this.name = `${hostname()}.${process.pid}.${randomBytes(3).toString('hex')}`;
    this.keys = new BackboneKeys(options.prefix);
    this.stream = this.keys.requests(options.group);
    this.maxInFlight = options.maxInFlight ?? BACKBONE_DEFAULTS.maxInFlight;
    this.claimIdleMs = options.claimIdleMs ?? BACKBONE_DEFAULTS.claimIdleMs;
    this.idempotent = new Set(options.idempotent ?? []);
    const ttl = options.ttlMs ?? BACKBONE_DEFAULTS.ttlMs;
    this.requests = new EntryCodec(options.codec, options.secret, REQUEST_KINDS, ttl);
    this.replies = new BundleCodec(options.codec, options.secret, REPLY_KINDS, ttl);
    this.control = new BundleCodec(options.codec, options.secret, CONTROL_KINDS, ttl);
    this.cmd = backboneConnection(options.url, options.password, `appinfra-worker:${this.name}`);
    this.cmd.defineCommand('appinfraFinish', { numberOfKeys: 1, lua: FINISH });
    this.reader = backboneConnection(options.url, options.password, `appinfra-worker-reader:${this.name}`, { autoResendUnfulfilledCommands: false, enableAutoPipelining: false });
    this.reader.defineCommand('appinfraFinish', { numberOfKeys: 1, lua: FINISH });
    // Subscriptions are restored by ioredis after a reconnect.
    this.sub = backboneConnection(options.url, options.password, `appinfra-worker-control:${this.name}`, { enableOfflineQueue: true, enableAutoPipelining: false });
    this.cmd.on('ready', this.onReady);
    this.cmd.on('close', this.onDown);
    this.sub.on('messageBuffer', this.onControl);
  }

  /** Request entries refused, by reason (their sum is `stats.refused`, with entries of another kind). */
  get refusals(): Readonly<Record<RefusalReason, number>> {
    return this.requests.verifier.refused;
  }

  /** Consumer name of this worker in the group. */
  get consumer(): string {
    return this.name;
  }

  async start(): Promise<void> {
    await Promise.all([this.cmd.connect(), this.reader.connect(), this.sub.connect()]);
    await Promise.all([whenReady(this.cmd), whenReady(this.reader), whenReady(this.sub)]);
    await this.sub.subscribe(this.keys.control);
    await this.ensureGroup();
    this.onReady();
    this.maintenance = setInterval(() => void this.maintain(), Math.max(100, Math.floor(this.claimIdleMs / 3)));
    this.maintenance.unref();
    this.reading = this.readLoop();
  }

  get isOpen(): boolean {
    return this.open;
  }

  get congested(): boolean {
    return false;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** The engine's answers: each goes to the reply channel of the web process that asked, at the end of the turn. */
  send(e: Envelope): void {
    const r = this.running.get(e.id);
    if (!r || !this.open) return;
    const last = e.kind === 'response' || e.kind === 'error' || e.kind === 'end';
    this.reply(r.replyTo, e);
    if (last) this.finish(r);
    else this.sending.kick();
  }

  private reply(replyTo: string, e: Envelope): void {
    const frame = this.replies.frame(e);
    const frames = this.outbox.get(replyTo);
    if (frames) frames.push(frame);
    else this.outbox.set(replyTo, [frame]);
  }





  /** Resolves once no request runs here, or after `ms`. */
  async drain(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (this.running.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  protected async shutdown(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    clearInterval(this.maintenance);
    this.capacity?.();
    const readerClosed = closeConnections(this.reader);
    await this.reading;
    await readerClosed;
    for (const h of this.closeHandlers) h('closed');
    // Now, not at the end of the turn: ahead of the consumer's removal and the quit.
    this.sending.kick(Infinity);
    if (this.cmd.status === 'ready' && this.running.size === 0) {
      await this.cmd.call('XGROUP', 'DELCONSUMER', this.stream, this.keys.group, this.name).catch(() => undefined);
    }
    await Promise.all([this.cmd.quit().catch(() => undefined), this.sub.quit().catch(() => undefined)]);
    await closeConnections(this.cmd, this.sub);
  }

  private readonly onReady = (): void => {
    if (!this.open) return;
    this.up = true;
    for (const entry of this.unacked.splice(0)) this.ackOne(entry);
  };

  /** Redis is gone: answers cannot leave, the web processes have already answered 503. Stop the work. */
  private readonly onDown = (): void => {
    if (!this.up) return;
    this.up = false;
    for (const r of this.running.values()) {
      this.stats.abandoned++;
      this.running.delete(r);
      this.unacked.push(r.entry);
      this.deliver({ kind: 'cancel', id: r.id });
    }
    this.capacity?.();
  };

  private async ensureGroup(): Promise<void> {
    try {
      await this.cmd.call('XGROUP', 'CREATE', this.stream, this.keys.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async readLoop(): Promise<void> {
    const key = this.stream;
    while (this.open) {
      if (this.running.size >= this.maxInFlight || !this.up) {
        // No read goes out now: what waits in the cork must not wait with it (a stream's chunks would).
        this.readerIdle = false;
        this.uncork();
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((r) => {
          this.capacity = r;
          // Re-checked at least every second: `up` comes back by an event this loop does not wait on.
          timer = setTimeout(r, 1000);
        });
        clearTimeout(timer);
        this.capacity = undefined;
        continue;
      }
      let reply: StreamReply;
      try {
        if (this.reader.status !== 'ready') await whenReady(this.reader);
        const read = this.reader.callBuffer('XREADGROUP', 'GROUP', this.keys.group, this.name, 'COUNT', this.maxInFlight - this.running.size, 'BLOCK', 2000, 'STREAMS', key, '>');
        this.readerIdle = false;
        this.uncork();
        reply = (await read) as StreamReply;
      } catch (err) {
        this.readerIdle = false;
        this.uncork();
        if (!this.open) return;
        // A restarted Redis without persistence has lost the group: create it again.
        if (String((err as Error).message).includes('NOGROUP')) await this.ensureGroup().catch(() => undefined);
        else await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!reply) continue;
      const entries = reply[0]![1];
      // A light read: the answers of its quick handlers go with the next read, after this
      // turn's microtasks and flush. A heavy one (a batch flushed early): read again at once,
      // as waiting for the turn's end measured slower at 64 in flight.
      const merge = entries.length < EARLY;
      this.readerIdle = merge && this.open;
      for (const [id, fields] of entries) this.take(id.toString(), fields, false);
      if (merge) await new Promise<void>((r) => setImmediate(r));
    }
    this.readerIdle = false;
    this.uncork();
  }

  /** One request entry, first delivery or reclaimed from a dead worker. */
  private take(entry: string, fields: Buffer[], reclaimed: boolean): void {
    const e = this.requests.open(fields);
    if (typeof e === 'string' || e.kind !== 'request') {
      this.stats.refused++;
      // At most one line per 10 s: whoever writes forged entries must not be able to flood the log.
      const now = Date.now();
      if (now - this.lastRefusalWarning >= 10_000) {
        this.lastRefusalWarning = now;
        process.emitWarning(`appinfra backbone: refused a request stream entry ${entry} (${typeof e === 'string' ? e : `kind ${e.kind}`}); ${this.stats.refused} refused so far`, { code: 'APPINFRA_BACKBONE_REFUSED' });
      }
      this.ackOne(entry);
      return;
    }
    const replyTo = e.replyTo ?? '';
    if (!reclaimed) this.stats.taken++;
    this.seenWebs.set(replyTo, Date.now());
    if (this.goneWebs.has(replyTo)) {
      this.stats.orphaned++;
      this.ackOne(entry);
      return;
    }
    if (e.deadline !== undefined && e.deadline <= Date.now()) {
      this.stats.expired++;
      this.ackOne(entry);
      return;
    }
    if (reclaimed) {
      this.stats.reclaimed++;
      if (!this.idempotent.has(e.route ?? '')) {
        this.stats.lost++;
        this.reply(replyTo, { kind: 'error', id: e.id, payload: wireErrorOf('APPINFRA_ERR_WORKER_LOST') });
        this.ackOne(entry);
        return;
      }
      this.stats.rerun++;
    }
    if (!this.running.tryAdd({ id: e.id, entry, replyTo, slot: -1 })) {
      this.ackOne(entry);
      return;
    }
    this.deliver(e);
  }

  private finish(r: Running): void {
    this.running.delete(r);
    this.ackOne(r.entry);
    this.capacity?.();
  }

  /** Acknowledges and deletes a finished entry (with the replies queued before it, in one round trip). */
  private ackOne(entry: string): void {
    if (!this.up) {
      this.unacked.push(entry);
      return;
    }
    this.toAck.push(entry);
    this.sending.kick(++this.queued);
  }

  /**
   * Replies and acknowledgements queued since the last round trip, as one script call: per
   * web process one signed bundle (a turn's replies, chunks and ends, in order), and the
   * finished entries acknowledged and deleted.
   */
  private readonly sending = new TurnBatch((early) => {
    const out = this.outbox;
    const ids = this.toAck;
    if (out.size === 0 && ids.length === 0) return undefined;
    const conn = this.readerIdle && this.reader.status === 'ready' ? this.reader : this.cmd;
    if (this.finishing && this.finishing.conn !== conn) {
      this.held = true;
      return undefined;
    }
    this.outbox = new Map();
    this.toAck = [];
    this.queued = 0;
    if (!this.up) {
      this.unacked.push(...ids);
      return undefined;
    }
    const args: (string | Buffer | number)[] = [this.keys.group, ids.length, ...ids];
    const max = this.replies.maxBundleBytes;
    for (const [replyTo, frames] of out) {
      const channel = this.keys.reply(replyTo);
      let from = 0;
      let bytes = 0;
      for (let i = 0; i < frames.length; i++) {
        if (i > from && bytes + frames[i]!.length > max) {
          args.push(channel, this.replies.seal(frames.slice(from, i)));
          from = i;
          bytes = 0;
        }
        bytes += frames[i]!.length;
      }
      args.push(channel, this.replies.seal(from === 0 ? frames : frames.slice(from)));
    }
    return this.finish_(conn, args, early);
  });

  private finish_(conn: Redis, args: (string | Buffer | number)[], early: boolean): Promise<void> {
    if (conn === this.reader && !this.corked) {
      conn.stream.cork();
      this.corked = true;
    }
    const f = (this.finishing ??= { conn, n: 0 });
    f.n++;
    const call = (conn as unknown as Finish).appinfraFinish(this.stream, ...args);
    if (early) this.uncork();
    return call.then(
      () => this.finished(),
      () => {
        this.finished();
        // Lost with the reader's connection: again on the command connection. A bundle that did
        // go out once is refused the second time as a replay (same nonce); acks are idempotent.
        if (conn === this.reader && this.up) return this.finish_(this.cmd, args, true);
        return undefined;
      },
    );
  }

  private finished(): void {
    if (this.finishing && --this.finishing.n === 0) this.finishing = undefined;
    if (!this.finishing && this.held) {
      this.held = false;
      this.sending.kick(Infinity);
    }
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.reader.stream.uncork();
  }

  private readonly onControl = (_channel: Buffer, message: Buffer): void => {
    const es = this.control.open(message);
    if (typeof es === 'string') return;
    for (const e of es) {
      const r = this.running.get(e.id);
      // Most control envelopes are for requests another worker runs.
      if (!r) continue;
      if (e.kind === 'cancel') this.finish(r);
      this.deliver(e);
    }
  };

  /** Keeps running entries fresh, reclaims a dead worker's, and stops work for web processes that are gone. */
  private async maintain(): Promise<void> {
    if (!this.up || !this.open) return;
    const key = this.stream;
    try {
      const mine = this.running.values().map((r) => r.entry);
      if (mine.length > 0) await this.cmd.call('XCLAIM', key, this.keys.group, this.name, 0, ...mine, 'JUSTID');
      await this.checkWebs();
      if (++this.rounds % 20 === 0) await this.forgetDeadConsumers();
      if (this.running.size >= this.maxInFlight) return;
      const claimed = (await this.cmd.callBuffer('XAUTOCLAIM', key, this.keys.group, this.name, this.claimIdleMs, '0-0', 'COUNT', this.maxInFlight - this.running.size)) as [Buffer, [Buffer, Buffer[] | null][], Buffer[]?];
      for (const [id, fields] of claimed[1]) {
        // An entry deleted while pending comes back without fields: nothing to run.
        if (fields) this.take(id.toString(), fields, true);
        else this.ackOne(id.toString());
      }
    } catch {
      // Redis went away mid-way: the next round does it.
    }
  }

  /**
   * A worker killed without a clean stop stays a consumer of the group; once its entries
   * are reclaimed (none pending) and it has not read for a minute, it is removed. A live
   * worker reads at least every 2 s, and one at capacity has entries pending.
   */
  private async forgetDeadConsumers(): Promise<void> {
    const rows = (await this.cmd.call('XINFO', 'CONSUMERS', this.stream, this.keys.group)) as unknown[][];
    for (const row of rows) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < row.length; i += 2) info[String(row[i])] = row[i + 1];
      const idle = Number(info.idle);
      if (info.name !== this.name && Number(info.pending) === 0 && idle > Math.max(60_000, 10 * this.claimIdleMs)) {
        await this.cmd.call('XGROUP', 'DELCONSUMER', this.stream, this.keys.group, String(info.name));
      }
    }
  }

  /** Web processes this worker heard from lately: one whose presence key expired is gone (killed, or its machine). */
  private async checkWebs(): Promise<void> {
    const recent = Date.now() - 60_000;
    for (const [w, at] of this.seenWebs) if (at < recent) this.seenWebs.delete(w);
    const webs = [...this.seenWebs.keys()].filter((w) => !this.goneWebs.has(w));
    if (webs.length === 0) return;
    const alive = (await this.cmd.call('MGET', ...webs.map((w) => this.keys.alive(w)))) as (string | null)[];
    webs.forEach((w, i) => {
      if (alive[i] !== null) return;
      this.goneWebs.add(w);
      for (const r of this.running.values()) {
        if (r.replyTo !== w) continue;
        this.stats.orphaned++;
        this.finish(r);
        this.deliver({ kind: 'cancel', id: r.id });
      }
    });
  }

}

interface Finish {
  appinfraFinish(key: string, ...args: (Buffer | number | string)[]): Promise<number>;
}
