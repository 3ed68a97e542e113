import type { Socket } from 'node:net';
import type { Envelope } from '../envelope.js';
import type { Codec } from '../codecs/index.js';
import { FrameDecoder, HEADER_BYTES } from '../framing.js';
import type { Link } from './link.js';

export interface PipeLinkOptions {
  codec: Codec;
  maxFrameBytes?: number;
  name?: string;
}

/**
 * Envelopes over a stream socket (an inherited pipe or a Unix socket), framed with a
 * length prefix. Sends made in one event-loop turn leave in one write: many small
 * replies under load cost one syscall instead of one each.
 */
export class PipeLink implements Link {
  readonly name: string;
  private readonly codec: Codec;
  private readonly decoder: FrameDecoder;
  private handler: ((e: Envelope) => void) | undefined;
  private closeHandler: ((reason: string) => void) | undefined;
  private outbox: Buffer[] = [];
  private outboxBytes = 0;
  private flushScheduled = false;
  private open = true;
  private draining = false;
  private closeReason = 'closed';

  constructor(private readonly socket: Socket, options: PipeLinkOptions) {
    this.codec = options.codec;
    this.name = options.name ?? `pipe:${options.codec.name}`;
    this.decoder = new FrameDecoder(options.maxFrameBytes ?? 64 * 1024 * 1024);
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
    const body = this.codec.encode(envelope);
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32BE(body.length, 0);
    this.outbox.push(header, body);
    this.outboxBytes += HEADER_BYTES + body.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (!this.open || this.outbox.length === 0) return;
    const data = Buffer.concat(this.outbox, this.outboxBytes);
    this.outbox = [];
    this.outboxBytes = 0;
    if (!this.socket.write(data)) this.draining = true;
  };

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.decoder.push(chunk, (frame) => {
        if (this.open) this.handler?.(this.codec.decode(frame));
      });
    } catch (err) {
      // A corrupt or oversized frame means the stream is out of sync: nothing after it can be trusted.
      this.shutdown(`protocol error: ${(err as Error).message}`);
    }
  };

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
    this.closeHandler = handler;
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
    this.outbox = [];
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    this.socket.off('close', this.onSocketClose);
    // Keep the error listener: a late EPIPE on a closing socket must not crash the process.
    this.closeHandler?.(reason);
    if (!this.socket.destroyed && reason !== 'closed') this.socket.destroy();
  }
}
