import type { FastifyInstance } from 'fastify';

/**
 * Graceful close: stop accepting, close idle keep-alive sockets at once (Fastify's
 * `forceCloseConnections: 'idle'`), let in-flight requests finish for up to `timeout`
 * seconds, then close whatever is left. One timer, cleared on every path.
 */
export async function closeGracefully(app: FastifyInstance, timeout: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = app.close();
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), Math.max(0, timeout * 1000));
  });
  try {
    const first = await Promise.race([closed.then(() => 'closed' as const), expired]);
    if (first === 'expired') {
      app.server.closeAllConnections?.();
      await closed;
    }
  } finally {
    clearTimeout(timer);
  }
}
