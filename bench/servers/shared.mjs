// What every bench server shares: the two handlers (the same user code everywhere), the
// SSE writing of a Fastify app without appinfra, and the protocol with the runner.

/** Chunks per SSE response; the runner sets it so it can check the count it measures. */
export const CHUNKS = Number(process.env.BENCH_SSE_CHUNKS ?? 16);

/** The echo handler: answers with the parsed JSON body. */
export function echo(body) {
  return body;
}

/** The SSE handler: small JSON objects, as an engine handler would yield them. */
export async function* chunks() {
  for (let i = 0; i < CHUNKS; i++) yield { seq: i, text: 'chunk' };
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/**
 * SSE the way a Fastify user writes it by hand: take the raw response, one write per
 * event, no corking (appinfra corks the events of one tick into one write; a hand-written
 * route usually does not).
 */
export function sseResponse(reply) {
  reply.hijack();
  reply.raw.writeHead(200, SSE_HEADERS);
  return {
    write: (chunk) => reply.raw.write(`data: ${JSON.stringify(chunk)}\n\n`),
    end: () => reply.raw.end(),
  };
}

export const HOST = '127.0.0.1';
/** The runner picks the port (cold start polls it before the server can say which it is). */
export const PORT = Number(process.env.PORT ?? 0);

/** Tells the runner the server answers, and which processes serve it (for CPU accounting). */
export function ready(url, pids) {
  process.stdout.write(`BENCH_READY ${JSON.stringify({ url, pids })}\n`);
}

export function event(data) {
  process.stdout.write(`BENCH_EVENT ${JSON.stringify(data)}\n`);
}

/**
 * Stops on SIGTERM/SIGINT, and when stdin closes: the runner holds the other end, so a
 * runner that dies (Ctrl-C, crash) takes its servers with it.
 */
export function onStop(stop) {
  let stopping;
  const run = () => (stopping ??= Promise.resolve()
    .then(stop)
    .catch((err) => console.error(err))
    .finally(() => process.exit(0)));
  process.on('SIGTERM', run);
  process.on('SIGINT', run);
  process.stdin.on('end', run);
  process.stdin.on('error', run);
  process.stdin.resume();
}
