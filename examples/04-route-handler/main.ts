/**
 * Seed example 4: route handlers with IPC, served in subprocess mode.
 *
 *   npx tsx examples/04-route-handler/main.ts      (PORT=9000 to change the port; default 8000)
 *
 * The handlers live in routes.ts, which only the web process imports; they submit
 * `InternalRequest`s through the IPCChannel. This process is the engine: a queue loop
 * that answers each request on `responseQ` by id, and answers streams with chunks, the
 * last of which carries `isFinal: true`. Ctrl-C or SIGTERM stops it cleanly.
 */
import { setTimeout as sleep } from 'node:timers/promises';
// In your own project: import { ... } from 'appinfra';
import { EngineError, Queue, ServerBuilder } from '../../src/index.js';
import type { InternalRequest, InternalResponse, TokenChunk } from './protocol.js';

const requestQ = new Queue<InternalRequest>();
const responseQ = new Queue<InternalResponse | TokenChunk | (EngineError & { id: string })>();
/** Milliseconds between two streamed tokens: the toy model's "generation" time. */
const tokenDelay = Number(process.env.TOKEN_DELAY_MS ?? 20);

let builder = new ServerBuilder('inference-api')
  .withHost(process.env.HOST ?? '127.0.0.1')
  .withPort(Number(process.env.PORT ?? 8000))
  .routes.fromModule(new URL('./routes.ts', import.meta.url))
  .done()
  .subprocess.withIpc(requestQ, responseQ)
  .withMaxPending(100)
  .withResponseTimeout(60)
  .done();
if (process.env.API_LOG_FILE) builder = builder.subprocess.withLogFile(process.env.API_LOG_FILE).done();
const server = builder.build();

/** The toy model: one token per word, shouted. */
function tokenize(data: string): string[] {
  return data.split(/\s+/).filter(Boolean).map((w) => w.toUpperCase());
}

/** A non-streaming request: one answer, `status: 'error'` when there is nothing to infer. */
function infer(request: InternalRequest): InternalResponse {
  const tokens = tokenize(request.data);
  if (tokens.length === 0) return { id: request.id, status: 'error', error: 'nothing to infer: data is blank' };
  return { id: request.id, status: 'ok', result: tokens.join(' '), tokens: tokens.length };
}

/**
 * A streaming request: one chunk per token, the last with `isFinal: true`. Awaiting
 * `put` lets a slow client slow the stream down; the request's signal tells when the
 * client has gone (nothing would read what follows).
 */
async function stream(request: InternalRequest): Promise<void> {
  const signal = server.engine.signalFor(request.id);
  const tokens = tokenize(request.data);
  if (tokens.length === 0) {
    // Refused before the first chunk: the client gets this status, not a 200 stream.
    await responseQ.put(Object.assign(new EngineError(422, 'nothing to infer: data is blank', 'BLANK_INPUT'), { id: request.id }));
    return;
  }
  for (let index = 0; index < tokens.length; index++) {
    if (signal?.aborted) {
      console.log(`stream ${request.id}: client gone after ${index} of ${tokens.length} tokens`);
      return;
    }
    await responseQ.put({ id: request.id, index, token: tokens[index]!, isFinal: index === tokens.length - 1 });
    if (index < tokens.length - 1) await sleep(tokenDelay);
  }
}

await server.startSubprocess();
console.log(`API server started (web pid=${server.pid}; engine pid=${process.pid})`);
console.log(`listening on ${server.address!.url}`);

let stopping = false;
const shutdown = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  void server.stop(5);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
// Closing the queue ends the loop below, once the server has stopped (by a signal or by itself).
void server.waitStopped().then(() => requestQ.close());

// The engine: every request the route handlers submit arrives here.
for await (const request of requestQ) {
  if (request.stream) {
    // A stream takes a while: it runs on its own so the loop keeps taking requests.
    stream(request).catch((err: unknown) => console.error(`stream ${request.id} failed:`, err));
  } else {
    void responseQ.put(infer(request));
  }
}

process.off('SIGINT', shutdown);
process.off('SIGTERM', shutdown);
console.log('stopped');
