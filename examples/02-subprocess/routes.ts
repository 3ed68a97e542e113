/**
 * Example 2's route module: imported by each web process (never by the engine). Its
 * default export is a Fastify plugin; `ipc` is that web process's channel to the engine.
 */
import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../src/web.js';

export default async function routes(app: FastifyInstance, { ipc }: { ipc: IPCChannel }): Promise<void> {
  // The seed's `health_handler`: answered by the web process itself, without a trip to the engine.
  app.get('/health', { schema: { tags: ['health'], summary: 'Liveness of this web process and its link to the engine' } }, async () => ({
    status: ipc.isConnected ? 'ok' : 'degraded',
    web: { pid: process.pid },
    ipc: { connected: ipc.isConnected, pending: ipc.pendingCount, maxPending: ipc.maxPending },
  }));
}
