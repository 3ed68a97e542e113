/**
 * WebSocket routes: each incoming JSON frame starts a stream to an engine handler on the
 * `stream` port; its chunks come back as frames. `countdown` also serves an SSE route,
 * unchanged. Closing the socket (or a `cancel` frame) aborts the handler's `ctx.signal`.
 *
 *   npx tsx examples/protocols/websocket.ts
 *   websocat ws://localhost:8000/ws/countdown     send {"id":"a","data":{"from":3}}
 *     <- {"type":"chunk","id":"a","data":{"n":3}} ... {"type":"end","id":"a"}
 *   curl -sN -XPOST localhost:8000/countdown -H 'content-type: application/json' -d '{"from":3}'
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, ServerBuilder, type EngineContext, type ForwardRequest } from '../../src/index.js';
import { runAsScript, withQueues, type Example } from './serve.js';

/** Counts down from `from`; a negative start is the client's mistake (422, shown to the client). */
export async function* countdown(request: ForwardRequest): AsyncGenerator<{ n: number }> {
  const { from = 3 } = (request.body ?? {}) as { from?: number };
  if (typeof from !== 'number' || from < 0) throw new EngineError(422, 'from must be a number >= 0', 'BAD_FROM');
  for (let n = from; n > 0; n--) yield { n };
}

/** Ticks until the client goes away: the signal is how the engine learns it. */
export async function* ticker(request: ForwardRequest, ctx: EngineContext): AsyncGenerator<{ i: number }> {
  const { every = 20 } = (request.body ?? {}) as { every?: number };
  for (let i = 0; !ctx.signal.aborted; i++) {
    yield { i };
    await sleep(every, undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

/** An engine bug: the client sees a generic 500, never this message or a stack. */
export function broken(): never {
  throw new Error('secret internal detail');
}

export function createServer(port = 8000): Example {
  const { server, close } = withQueues(
    new ServerBuilder('websocket-example')
      .withPort(port)
      .routes.withWebSocket('/ws/countdown', { handler: 'countdown' })
      .withWebSocket('/ws/ticker', { handler: 'ticker', maxStreams: 4 })
      .withWebSocket('/ws/broken', { handler: 'broken' })
      .withForward('/countdown', { methods: ['POST'], handler: 'countdown', reply: 'sse' })
      .done(),
  );
  server.engine.handle('countdown', countdown).handle('ticker', ticker).handle('broken', broken);
  return { server, close };
}

await runAsScript(import.meta, createServer, (url) => `websocket example on ${url}`);
