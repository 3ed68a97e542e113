/** The slow-client fixture: an engine handler that floods as fast as credit allows. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Queue, ServerBuilder, type EngineContext, type Server } from '../../src/index.js';
import { waitFor } from '../helpers.js';

export const WINDOW = 8;
export const CHUNK_BYTES = 64 * 1024;
/**
 * What may legitimately sit between a paused client and the engine besides the window:
 * kernel send + receive buffers on loopback (tcp_wmem max 4 MiB, receive buffer not grown
 * by a reader that never reads) and a frame or two in user space. Without backpressure the
 * generator never stops at all.
 */
const SOCKET_BUFFERS = 16 * 1024 * 1024;
export const BOUND = WINDOW + 2 + Math.ceil(SOCKET_BUFFERS / CHUNK_BYTES);

interface Flood {
  count: number;
  ctx: EngineContext;
}
export const floods = new Map<string, Flood>();

/** Yields 64 KiB chunks for as long as it is allowed to; counts what it produced. */
export async function* flood(req: { body?: { tag?: string } }, ctx: EngineContext): AsyncGenerator<{ seq: number; blob: string }> {
  const rec: Flood = { count: 0, ctx };
  floods.set(String(req.body?.tag), rec);
  const blob = 'x'.repeat(CHUNK_BYTES);
  while (!ctx.signal.aborted) yield { seq: ++rec.count, blob };
}

/** A subprocess-mode server with the flood handler behind an SSE route, a WebSocket route and a GraphQL subscription. */
export function startFlood(http2: boolean): { server: Server; close: () => Promise<void> } {
  const requestQ = new Queue();
  const responseQ = new Queue();
  let b = new ServerBuilder(http2 ? 'bp-h2c' : 'bp-h1')
    .withPort(0)
    .routes.withForward('/flood', { methods: ['POST'], handler: 'flood', reply: 'sse', window: WINDOW })
    .withWebSocket('/flood/ws', { handler: 'flood', window: WINDOW })
    .withGraphQL({
      schema: 'type Chunk { seq: Int!  blob: String! } type Query { ok: Boolean } type Subscription { flood(tag: String!): Chunk! }',
      resolvers: { Subscription: { flood: 'flood' } },
      window: WINDOW,
    })
    .done();
  if (http2) b = b.uvicorn.withHttp2().done();
  const server = b.subprocess.withIpc(requestQ, responseQ).done().build();
  server.engine.handle('flood', flood);
  const close = async (): Promise<void> => {
    await server.stop();
    requestQ.close();
    responseQ.close();
  };
  return { server, close };
}

/** Waits until the engine's count has stopped moving (the generator is parked on credit). */
export async function stalled(tag: string): Promise<number> {
  await waitFor(() => floods.has(tag), 10_000, `the ${tag} stream to start`);
  const rec = floods.get(tag)!;
  let last = -1;
  let still = 0;
  await waitFor(
    () => {
      still = rec.count === last ? still + 1 : 0;
      last = rec.count;
      return still >= 15;
    },
    20_000,
    `the ${tag} generator to stop while its client is paused`,
  );
  return rec.count;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

export async function assertPausedAndResumes(t: { diagnostic: (m: string) => void }, tag: string, server: Server, resume: () => void, drop: () => void): Promise<void> {
  const pid = server.processes[0]!.pid!;
  const rssBefore = rssKiB(pid);
  const produced = await stalled(tag);
  const rssGrowthMiB = (rssKiB(pid) - rssBefore) / 1024;
  t.diagnostic(`${tag}: engine produced ${produced} chunks of ${CHUNK_BYTES / 1024} KiB with the client paused (bound ${BOUND}); web RSS +${rssGrowthMiB.toFixed(1)} MiB`);
  assert.ok(produced <= BOUND, `${tag}: the engine produced ${produced} chunks for a paused client; bound ${BOUND}`);
  assert.ok(rssGrowthMiB < 64, `${tag}: the web process grew ${rssGrowthMiB.toFixed(1)} MiB while its client was paused`);
  const rec = floods.get(tag)!;
  assert.equal(rec.ctx.signal.aborted, false, 'paused is not cancelled');

  // Reading again returns credit: the engine goes on.
  resume();
  await waitFor(() => rec.count > produced + 4 * WINDOW, 20_000, `${tag} to resume`);
  // Leaving cancels the engine's work.
  drop();
  await waitFor(() => rec.ctx.signal.aborted, 10_000, `${tag} to be cancelled`);
}

