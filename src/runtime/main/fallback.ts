import { createServer, type Server as HttpServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthAnswer } from '../../contract/control.js';
import { errorBody, wireErrorOf } from '../../errors/index.js';

/**
 * What answers on the port once every web process is gone for good (restarts used up):
 * a minimal HTTP server in the main process that says 503 to everything, with the
 * health report on `/_health`. A load balancer then sees an unhealthy server instead of
 * a refused connection it might retry forever. It does no real work, so the engine's
 * event loop is not what it waits on.
 */
export class FallbackResponder {
  private server: HttpServer | undefined;

  constructor(private readonly report: () => HealthAnswer) {}

  /**
   * Binds `host:port`. The last worker's socket is released as it exits, so a few
   * EADDRINUSE are retried; resolves false if the port stays taken (someone else has it).
   */
  async open(host: string, port: number): Promise<boolean> {
    const server = createServer((req, res) => {
      const health = (req.url ?? '').split('?')[0] === '/_health';
      const body = health ? this.report().body : errorBody(wireErrorOf('APPINFRA_ERR_UNAVAILABLE'));
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', connection: 'close', 'retry-after': '5' });
      res.end(JSON.stringify(body));
    });
    server.keepAliveTimeout = 1;
    for (let attempt = 0; attempt < 20; attempt++) {
      const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        server.once('error', resolve);
        server.listen({ host, port }, () => {
          server.off('error', resolve);
          resolve(undefined);
        });
      });
      if (!err) {
        this.server = server;
        return true;
      }
      if (err.code !== 'EADDRINUSE') return false;
      await sleep(100);
    }
    return false;
  }

  get isOpen(): boolean {
    return !!this.server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
