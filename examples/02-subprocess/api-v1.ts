/**
 * Example 2's router (the seed's `my_router`), mounted under `/api/v1` by
 * `.withRouter(new URL('./api-v1.ts', import.meta.url), { prefix: '/api/v1' })`.
 * A router is a Fastify plugin; the web process imports it by URL.
 */
import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../src/web.js';

export default async function apiV1(app: FastifyInstance, { ipc }: { ipc: IPCChannel }): Promise<void> {
  // Asks the engine through the same queues: main.ts's loop answers `{ op: 'stats' }`.
  app.get('/stats', { schema: { summary: 'Requests the engine has processed so far' } }, async () => {
    const reply = (await ipc.submit({ op: 'stats' }, { timeout: 5 })) as { id: string; processed: number; engine: { pid: number; uptime: number } };
    return { processed: reply.processed, engine: reply.engine, web: { pid: process.pid } };
  });
}
