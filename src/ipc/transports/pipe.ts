import type { Socket } from 'node:net';
import type { Envelope } from '../envelope.js';
import type { Codec } from '../codecs/index.js';
import { FrameDecoder, HEADER_BYTES } from '../framing.js';
import type { Link } from './link.js';
import { EncodeError } from '../../errors.js';

export interface PipeLinkOptions {
  codec: Codec;
  maxFrameBytes?: number;
  name?: string;
}

/** Chunks of one stream sent in one turn, encoded at send time, framed together at flush. */
interface ChunkGroup {
  id: string;
  parts: string[];
  bytes: number;
}

/** A chunk group stops growing past this many bytes; the next chunk starts a new frame. */
const CHUNK_GROUP_BYTES = 64 * 1024;

/**
 * Envelopes over a stream socket (an inherited pipe or a Unix socket), framed with a
 * length prefix. Sends made in one event-loop turn leave in one write: many small
 * replies under load cost one syscall instead of one each. With a codec that can batch
 * (JSON), the chunks of one stream sent in that turn also share one frame, so the
 * receiver decodes one frame instead of one per chunk.
 */
export class PipeLink implements Link {
  readonly name: string;
  private readonly codec: Codec;
  private readonly decoder: FrameDecoder;
  private handler: ((e: Envelope) => void) | undefined;
  private closeHandler: ((reason: string) => void) | undefined;
  private outbox: (Buffer | ChunkGroup)[] = [];
  private outboxBytes = 0;
  /**
   * Per stream, its chunk group in the outbox that its next chunk joins. Streams run
   * interleaved (many handlers yield in the same turn), so a group is found by id; any
   * other envelope of that stream closes it, which keeps each stream's order exact.
   */
  private readonly groups = new Map<string, ChunkGroup>();
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
    if (envelope.kind === 'chunk' && this.codec.chunkPart && isPlainChunk(envelope)) {
      const part = this.encodePart(envelope);
      if (part !== undefined) {
        const g = this.groups.get(envelope.id);
        if (g && g.bytes + part.length <= CHUNK_GROUP_BYTES) {
          g.parts.push(part);
          g.bytes += part.length;
        } else {
          const group = { id: envelope.id, parts: [part], bytes: part.length };
          this.groups.set(envelope.id, group);
          this.outbox.push(group);
          this.schedule();
        }
        return;
      }
    }
    // Encoded before anything else: a value the codec refuses leaves the outbox and groups as they were.
    const body = this.encode(envelope);
    if (this.groups.size > 0) this.groups.delete(envelope.id);
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32BE(body.length, 0);
    this.outbox.push(header, body);
    this.outboxBytes += HEADER_BYTES + body.length;
    this.schedule();
  }

  private encode(envelope: Envelope): Buffer {
    try {
      return this.codec.encode(envelope);
    } catch (err) {
      throw new EncodeError(this.codec.name, envelope.kind, err);
    }
  }

  private encodePart(envelope: Envelope): string | undefined {
    try {
      return this.codec.chunkPart!(envelope.payload);
    } catch (err) {
      throw new EncodeError(this.codec.name, envelope.kind, err);
    }
  }

  private schedule(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.groups.clear();
    if (!this.open || this.outbox.length === 0) return;
    const items = this.outbox;
    this.outbox = [];
    let bytes = this.outboxBytes;
    this.outboxBytes = 0;
    let buffers = items as Buffer[];
    if (items.some((i) => !Buffer.isBuffer(i))) {
      buffers = [];
      for (const item of items) {
        if (Buffer.isBuffer(item)) {
          buffers.push(item);
        } else {
          const body = this.codec.chunkBatch!(item.id, item.parts);
          const header = Buffer.allocUnsafe(HEADER_BYTES);
          header.writeUInt32BE(body.length, 0);
          buffers.push(header, body);
          bytes += HEADER_BYTES + body.length;
        }
      }
    }
    const data = Buffer.concat(buffers, bytes);
    if (!this.socket.write(data)) this.draining = true;
  };

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.decoder.push(chunk, (frame) => {
        if (!this.open) return;
        const e = this.codec.decode(frame);
        if (e.batch === undefined) {
          this.deliver(e);
          return;
        }
        for (const payload of e.batch) {
          if (!this.open) return;
          this.deliver({ kind: 'chunk', id: e.id, payload });
        }
      });
    } catch (err) {
      // A corrupt or oversized frame means the stream is out of sync: nothing after it can be trusted.
      this.shutdown(`protocol error: ${(err as Error).message}`);
    }
  };

  /**
   * Hands one envelope to the receiver. Its exceptions are kept out of the framing guard
   * above: a bug in a receiver is not a corrupt stream, and closing the link for it would
   * fail every request in flight on it. It is reported (with its stack) and the next
   * envelope is delivered.
   */
  private deliver(e: Envelope): void {
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
    this.groups.clear();
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    this.socket.off('close', this.onSocketClose);
    // Keep the error listener: a late EPIPE on a closing socket must not crash the process.
    this.closeHandler?.(reason);
    if (!this.socket.destroyed && reason !== 'closed') this.socket.destroy();
  }
}

/** A chunk with nothing but its stream id and payload: the only kind a chunk group can carry. */
function isPlainChunk(e: Envelope): boolean {
  return e.payload !== undefined && e.replyTo === undefined && e.traceparent === undefined && e.ts === undefined && e.nonce === undefined && e.sig === undefined;
}
