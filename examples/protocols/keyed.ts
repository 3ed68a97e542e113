/**
 * Keyed streams (`kv_stream` port): one WebSocket carries one logical stream per key.
 * The client subscribes and unsubscribes per key; each key's frames arrive in the
 * engine's order for that key; a key whose handler fails gets an error frame and the
 * other keys go on. The engine request carries the key.
 *
 *   npx tsx examples/protocols/keyed.ts
 *   websocat ws://localhost:8000/prices
 *     send {"type":"subscribe","key":"ACME","data":{"every":100}}
 *     <- {"type":"chunk","key":"ACME","data":{"symbol":"ACME","seq":0,"price":100}} ...
 *     send {"type":"unsubscribe","key":"ACME"}   <- {"type":"end","key":"ACME","cancelled":true}
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, ServerBuilder, type EngineContext, type ForwardRequest } from '../../src/index.js';
import { runAsScript, withQueues, type Example } from './serve.js';

export interface Quote {
  symbol: string;
  seq: number;
  price: number;
}

/** One price feed per key. A symbol the exchange does not know fails after a few quotes. */
export async function* prices(request: ForwardRequest & { key?: string }, ctx: EngineContext): AsyncGenerator<Quote> {
  const symbol = request.key ?? String((request.body as { symbol?: string } | undefined)?.symbol ?? 'ACME');
  const { every = 10 } = (request.body ?? {}) as { every?: number };
  let price = 100;
  for (let seq = 0; !ctx.signal.aborted; seq++) {
    if (symbol.startsWith('BAD') && seq === 3) throw new EngineError(404, `unknown symbol ${symbol}`, 'UNKNOWN_SYMBOL');
    yield { symbol, seq, price };
    price = Math.round((price + Math.sin(seq) * 2) * 100) / 100;
    await sleep(every, undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

export function createServer(port = 8000): Example {
  const { server, close } = withQueues(
    new ServerBuilder('keyed-example')
      .withPort(port)
      .routes.withWebSocket('/prices', { handler: 'prices', keyed: true })
      .done(),
  );
  server.engine.handle('prices', prices);
  return { server, close };
}

await runAsScript(import.meta, createServer, (url) => `keyed streams on ${url.replace('http', 'ws')}/prices`);
