import type { Envelope } from '../../../contract/envelope.js';

/** What both backbone links share: one receiver, close listeners, and a stop that runs once. */
export abstract class BackboneLink {
  abstract readonly name: string;
  private handler: ((e: Envelope) => void) | undefined;
  protected readonly closeHandlers: ((reason: string) => void)[] = [];
  private stopped: Promise<void> | undefined;

  onMessage(handler: (e: Envelope) => void): void {
    this.handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  close(): void {
    void this.stop();
  }

  /** Stops once, however often it is called; resolves when every connection is closed. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  protected abstract shutdown(): Promise<void>;

  /** A receiver's exception is reported, never taken for a transport failure (as the pipe link does). */
  protected deliver(e: Envelope): void {
    try {
      this.handler?.(e);
    } catch (err) {
      process.emitWarning(`${this.name}: the receiver of a "${e.kind}" envelope threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { code: 'APPINFRA_LINK_RECEIVER' });
    }
  }
}
