import { BuildError } from '../errors/index.js';
import type { EngineContext } from './context.js';
import { countBatch, newHandlerStats, type HandlerStats, type QueueOptions } from './handler-stats.js';
import { positive, type Lane, type Settle } from './lane.js';
import type { PendingRequest } from './pending.js';
import { WaitQueue, type Queued } from './wait-queue.js';

/** What one step produced for one sequence. An Error instead fails that sequence alone. */
export interface StepOutput<Chunk = unknown> {
  /** The chunk this step sends to the sequence's client (omit to send nothing this step). */
  chunk?: Chunk;
  /** The sequence is finished: it leaves the batch after this chunk. */
  done?: boolean;
}

/**
 * Continuous batching (vLLM's and TGI's scheduling) as a handler: every active sequence
 * advances one step per `step` call, new requests join between two steps, finished and
 * cancelled ones leave. Each sequence's chunks go to its own client under its own credit
 * window: a slow client parks its sequence alone, the others go on.
 */
export interface StepHandler<Req = any, Seq = any, Chunk = unknown> extends QueueOptions {
  /** Sequences advanced together, at most (default 16). Others wait in the queue. */
  maxBatchSize?: number;
  /** Turns a request into a sequence's state; a throw fails that request (before it joins). */
  start(request: Req, ctx: EngineContext): Seq | Promise<Seq>;
  /** Advances every given sequence by one step: output `i` belongs to `seqs[i]`. */
  step(seqs: Seq[], ctxs: EngineContext[]): (StepOutput<Chunk> | Error)[] | Promise<(StepOutput<Chunk> | Error)[]>;
  /**
   * The answer of a caller that is not a stream (a JSON request) once its sequence is done.
   * Default: the chunks it produced, as an array.
   */
  result?(seq: Seq, ctx: EngineContext): unknown;
  /** A sequence left before it was done (client gone, deadline, error): free what it holds. */
  stop?(seq: Seq, ctx: EngineContext): void;
}

interface Active {
  seq: unknown;
  p: PendingRequest;
  /** Waiting for its client's credit: skipped by the steps until its last chunk is taken. */
  parked: boolean;
}

/** The step loop of one `handleSteps` handler. */
export class StepLoop implements Lane {
  readonly stats: HandlerStats = newHandlerStats('steps');
  private readonly queue: WaitQueue<Queued>;
  private readonly max: number;
  private readonly active: Active[] = [];
  /** Sequences whose `start` has not resolved yet: they hold a place in the batch. */
  private starting = 0;
  private looping = false;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly name: string,
    private readonly handler: StepHandler,
    private readonly settle: Settle,
  ) {
    if (!handler || typeof handler.start !== 'function' || typeof handler.step !== 'function') {
      throw new BuildError(`engine.handleSteps("${name}", { start, step }): start and step must be functions`);
    }
    this.max = Math.floor(positive(handler.maxBatchSize, 16));
    this.queue = WaitQueue.of(name, handler, this.stats);
  }

  submit(payload: unknown, p: PendingRequest): void {
    if (!this.queue.enter({ request: payload, ctx: p, fail: (err) => this.settle.failed(p, err) })) return;
    this.wake();
  }

  finished(): void {
    // A sequence that ended (cancel included) is seen and removed by the next step.
    this.wake();
  }

  private wake(): void {
    if (this.looping || this.scheduled) return;
    // Between two steps: lets replies, credits and new requests of this turn in first.
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      void this.loop();
    });
  }

  private admit(): void {
    const room = this.max - this.active.length - this.starting;
    if (room <= 0) return;
    for (const e of this.queue.take(room)) {
      this.starting++;
      let seq: unknown;
      try {
        seq = this.handler.start(e.request, e.ctx);
      } catch (err) {
        this.starting--;
        this.settle.failed(e.ctx, err);
        continue;
      }
      void Promise.resolve(seq).then(
        (s) => {
          this.starting--;
          if (e.ctx.done) this.handler.stop?.(s, e.ctx);
          else this.active.push({ seq: s, p: e.ctx, parked: false });
          this.wake();
        },
        (err) => {
          this.starting--;
          this.settle.failed(e.ctx, err);
          this.wake();
        },
      );
    }
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      for (;;) {
        this.sweep();
        this.admit();
        const ready = this.active.filter((a) => !a.parked);
        if (ready.length === 0) return;
        this.stats.running = this.active.length;
        countBatch(this.name, this.stats, ready.length);
        let outs: (StepOutput | Error)[];
        try {
          outs = await this.handler.step(
            ready.map((a) => a.seq),
            ready.map((a) => a.p),
          );
          if (!Array.isArray(outs) || outs.length !== ready.length) {
            throw new Error(`engine.handleSteps("${this.name}"): step returned ${Array.isArray(outs) ? `${outs.length} outputs` : typeof outs} for ${ready.length} sequences; it must return one output per sequence, in order`);
          }
        } catch (err) {
          for (const a of ready) this.leave(a, err);
          continue;
        }
        ready.forEach((a, i) => this.deliver(a, outs[i]!));
        // One step per turn: the web process's credits, cancels and new requests get in between.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.looping = false;
      this.stats.running = this.active.length;
      // Anything that arrived during the last await is picked up on the next turn.
      if (this.queue.size > 0 && this.active.length + this.starting < this.max) this.wake();
    }
  }

  private deliver(a: Active, out: StepOutput | Error): void {
    if (a.p.done) return;
    if (out instanceof Error) {
      this.leave(a, out);
      return;
    }
    if (out.chunk !== undefined) {
      a.parked = true;
      void a.p.send(out.chunk).then(() => {
        a.parked = false;
        if (!this.looping) this.wake();
      });
    }
    if (out.done) {
      this.remove(a);
      this.settle.done(a.p, a.p.isStream ? undefined : this.handler.result ? this.handler.result(a.seq, a.p) : undefined);
    }
  }

  /** Takes out sequences whose request ended without them (client gone, deadline, lost web process). */
  private sweep(): void {
    for (const a of [...this.active]) {
      if (a.p.done) {
        this.remove(a);
        this.handler.stop?.(a.seq, a.p);
      }
    }
  }

  private leave(a: Active, err: unknown): void {
    this.remove(a);
    this.handler.stop?.(a.seq, a.p);
    this.settle.failed(a.p, err);
  }

  private remove(a: Active): void {
    const i = this.active.indexOf(a);
    if (i >= 0) this.active.splice(i, 1);
  }
}
