import type { Socket } from 'node:net';
import type { Envelope } from '../../contract/envelope.js';
import type { Codec } from '../codecs/index.js';
import { FrameWriter, decodeFrame, encodeFrame } from '../frame.js';
import { FrameDecoder } from '../framing.js';
import type { Link } from './link.js';
import type { FrameGuard } from './sealed.js';

/**
 * A turn's sends leave in one write, but not all at the end of a busy turn: once this many
 * frames (or bytes) wait, they go at once, so the peer starts on them while this side
 * works on the rest. Flushing only at the end of the turn made the two processes take
 * turns instead of overlapping: measured on 2 cores, echo at 64 connections +20% with a
 * bound of 16 frames, SSE at 16 connections +7% with 17 and +15-20% with 4. Now 8: with
 * the check below, SSE at 16 connections did 1.26-1.45x the responses with 4 or 8 as with
 * 16 (the engine starts on the first requests of a turn sooner), echo at 64 the same.
 *
 * The bound is checked when a frame ends something (a request, a reply, a stream's end):
 * a stream's chunks wait for their end, up to `FLUSH_CHUNKS`. Checked at every frame, a
 * 16-chunk SSE answer left in two writes (16 chunks, then its end), and the web process
 * wrote each such response to its client twice.
 */
const FLUSH_FRAMES = 8;
const FLUSH_CHUNKS = 256;
const FLUSH_BYTES = 64 * 1024;

export interface PipeLinkOptions {
  codec: Codec;
  maxFrameBytes?: number;
  name?: string;
  /** Signs what is sent and checks what arrives (tcp_local); a refused frame closes the link. */
  guard?: FrameGuard;
}

/**
 * Envelopes over a stream socket (an inherited pipe or a Unix socket), one length-prefixed
 * frame each (../frame.ts). Sends made in one event-loop turn leave in one write: many
 * small replies and stream chunks under load cost one syscall instead of one each.
 */
export class PipeLink implements Link {
  readonly name: string;
  readonly transport = 'pipe';
  readonly carriesBytes = true;
  private readonly codec: Codec;
  private readonly decoder: FrameDecoder;
  private readonly guard: FrameGuard | undefined;
  private handler: ((e: Envelope) => void) | undefined;
  private readonly closeHandlers: ((reason: string) => void)[] = [];
  /** The turn's frames, written back to back: one write, no concatenation. */
  private readonly outbox = new FrameWriter();
  private outboxFrames = 0;
  private flushScheduled = false;
  private open = true;
  private draining = false;
  private closeReason = 'closed';

  constructor(private readonly socket: Socket, options: PipeLinkOptions) {
    this.codec = options.codec;
    this.name = options.name ?? `pipe:${options.codec.name}`;
    this.guard = options.guard;
    this.decoder = new FrameDecoder(options.maxFrameBytes ?? options.guard?.maxFrameBytes ?? 64 * 1024 * 1024);
    socket.setNoDelay?.(true);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onSocketClose);
  }

  get isOpen(): boolean {
    return this.open;
  }

  get congested(): boolean {
    return this.draining;
  }

  send(envelope: Envelope): void {
    if (!this.open) return;
    // Encoded before it is queued: a value the codec refuses throws here and leaves the outbox as it was.
    if (this.guard) this.outbox.appendBytes(this.guard.seal(encodeFrame(envelope, this.codec), envelope.kind, envelope.id));
    else this.outbox.append(envelope, this.codec);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    const frames = ++this.outboxFrames;
    if (frames >= (envelope.kind === 'chunk' || envelope.kind === 'credit' ? FLUSH_CHUNKS : FLUSH_FRAMES) || this.outbox.pending >= FLUSH_BYTES) this.write();
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.open) this.write();
  };

  private write(): void {
    if (this.outbox.pending === 0) return;
    this.outboxFrames = 0;
    if (!this.socket.write(this.outbox.take())) this.draining = true;
  }

  private readonly onData = (chunk: Buffer): void => {
    const frames: Envelope[] = [];
    try {
      const guard = this.guard;
      this.decoder.push(chunk, (frame) => frames.push(decodeFrame(guard ? guard.open(frame) : frame, this.codec)));
    } catch (caught) {
      // A signed link counts what broke the stream as a refusal, whatever part noticed.
      const err = this.guard ? this.guard.broken(caught) : caught;
      // A corrupt or oversized frame means the stream is out of sync: nothing after it can be trusted.
      // The whole frames before it are still delivered.
      for (const e of frames) this.deliver(e);
      this.shutdown(`protocol error: ${(err as Error).message}`);
      return;
    }
    for (const e of frames) this.deliver(e);
  };

  /**
   * Hands one envelope to the receiver. Its exceptions are kept out of the framing guard
   * above: a bug in a receiver is not a corrupt stream, and closing the link for it would
   * fail every request in flight on it. It is reported (with its stack) and the next
   * envelope is delivered.
   */
  private deliver(e: Envelope): void {
    if (!this.open) return;
    try {
      this.handler?.(e);
    } catch (err) {
      const what = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.emitWarning(`${this.name}: the receiver of a "${e.kind}" envelope threw; the link stays open: ${what}`, { code: 'APPINFRA_LINK_RECEIVER' });
    }
  }

  private readonly onDrain = (): void => {
    this.draining = false;
  };

  private readonly onError = (err: Error): void => {
    this.closeReason = `socket error: ${err.message}`;
  };

  private readonly onSocketClose = (): void => {
    this.shutdown(this.closeReason === 'closed' ? 'peer closed' : this.closeReason);
  };

  onMessage(handler: (e: Envelope) => void): void {
    this.handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  close(): void {
    if (!this.open) return;
    this.flush();
    this.shutdown('closed');
    this.socket.end();
  }

  private shutdown(reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.outbox.take();
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    this.socket.off('close', this.onSocketClose);
    // Keep the error listener: a late EPIPE on a closing socket must not crash the process.
    for (const h of this.closeHandlers) h(reason);
    if (!this.socket.destroyed && reason !== 'closed') this.socket.destroy();
  }
}
