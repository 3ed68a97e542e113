const MAX = Number(process.env.APPINFRA_BATCH_MAX ?? 1e9);
const WAIT = process.env.APPINFRA_BATCH_WAIT !== '0';
/**
 * Batching per turn: what is queued during one burst of work (a read's worth of replies
 * and the microtasks they resolve) goes out together on `process.nextTick`, which runs
 * once the microtask queue is empty, with no added event-loop turn. While a batch is on its
 * way the next one waits for it, so that under load each round trip carries everything
 * that piled up meanwhile.
 */
export class NaturalBatch {
  private busy = false;
  private scheduled = false;
  private again = false;

  /** `flush` sends everything queued so far and resolves when Redis has answered it. */
  constructor(private readonly flush: () => Promise<unknown> | undefined) {}

  /** Something was queued: send at the end of this turn, or right after the batch in flight. */
  kick(queued = 0): void {
    if (this.busy && WAIT) {
      this.again = true;
      return;
    }
    if (queued >= MAX) {
      this.run();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const sent = this.flush();
    if (!sent) return;
    if (!WAIT) return;
    this.busy = true;
    sent.then(this.done, this.done);
  };

  private readonly done = (): void => {
    this.busy = false;
    if (this.again) {
      this.again = false;
      this.run();
    }
  };
}
