import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { clientError } from './ingress.js';

export interface SseOptions {
  /** HTTP status once the first chunk is in (default 200). */
  status?: number;
  /** A last `data:` event after the stream ends, such as OpenAI's `[DONE]`. */
  done?: string;
  /** The event text for a failure mid-stream; by default `event: error` with status, code and message (never a stack). */
  errorEvent?: (err: unknown) => string;
}

/**
 * Answers a request with an engine stream as Server-Sent Events: the forward routes' SSE
 * reply, and the one for route modules (`ipc.submitStreaming`). The first chunk is awaited
 * before the status is committed, so admission (503) and early engine errors keep their own
 * status; a slow client is waited for (`drain`), which holds back the stream's credit; a
 * client that hangs up ends the iterator, which cancels the engine's work.
 */
export async function replySse(reply: FastifyReply, stream: AsyncIterator<unknown>, options: SseOptions = {}): Promise<void> {
  const first = await stream.next();
  const res = openSse(reply, options.status ?? 200);
  let gone = false;
  const onClose = (): void => {
    if (!res.writableFinished) {
      gone = true;
      void stream.return?.();
    }
  };
  res.once('close', onClose);
  try {
    if (!first.done) await writeEvent(res, `data: ${JSON.stringify(first.value)}\n\n`);
    while (!gone) {
      const r = await stream.next();
      if (r.done) break;
      await writeEvent(res, `data: ${JSON.stringify(r.value)}\n\n`);
    }
    if (!gone && options.done !== undefined) await writeEvent(res, `data: ${options.done}\n\n`);
  } catch (err) {
    // A chunk that cannot be written as JSON (a BigInt in direct mode) fails here, not in the
    // engine: stop the engine's stream too, or it would run on for a client that is answered.
    void stream.return?.();
    if (!gone) await writeEvent(res, (options.errorEvent ?? errorEvent)(err));
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

/** Commits an SSE response: Fastify lets go of it, the status and headers leave now. */
export function openSse(reply: FastifyReply, status: number): ServerResponse {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(status, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  return res;
}

export function errorEvent(err: unknown): string {
  return `event: error\ndata: ${JSON.stringify(clientError(err))}\n\n`;
}

/**
 * Writes one event. Events written in the same tick (chunks that arrived together) leave
 * in one write: the response is corked until the next tick. False when the client asks
 * to wait for `drain`.
 */
export function writeCorked(res: ServerResponse, event: string | Buffer): boolean {
  if (res.destroyed) return true;
  if (!res.writableCorked) {
    res.cork();
    process.nextTick(uncork, res);
  }
  return res.write(event);
}

/** Writes one event (`writeCorked`); waits for `drain` (or the socket closing) when the client is slow. */
export function writeEvent(res: ServerResponse, event: string | Buffer): Promise<void> | void {
  if (writeCorked(res, event)) return;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function uncork(res: ServerResponse): void {
  res.uncork();
}
