/**
 * Natural batching: the first command goes out at once; what is queued while it is on its
 * way goes out together when it is back. One request at a time pays no added turn (an
 * auto-pipeline or a setImmediate costs about 100 µs a round trip on a busy machine), and
 * under load each round trip carries everything that piled up meanwhile.
 */
export class NaturalBatch {
  private busy = false;
  private again = false;

  /** `flush` sends everything queued so far and resolves when Redis has answered it. */
  constructor(private readonly flush: () => Promise<unknown> | undefined) {}

  /** Something was queued: send now, or right after the batch in flight. */
  kick(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.run();
  }

  private run(): void {
    const sent = this.flush();
    if (!sent) return;
    this.busy = true;
    const done = (): void => {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.run();
      }
    };
    sent.then(done, done);
  }
}
