/** A real redis-server for a test: its own port and temp dir, no persistence, stopped by the test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { freePort, waitFor } from '../helpers.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export class RedisServer {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'appinfra-redis-'));
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or starts again on the same port, as a restart would) and waits until it answers. */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    this.child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' });
    await waitFor(() => this.ping(), 10_000, 'redis-server to answer');
  }

  /** A raw PING over TCP: an ioredis client that fails to connect keeps its connect timer for 10 s. */
  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      let got = '';
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (d) => {
        got += d.toString();
        if (got.includes('\r\n')) done(got.startsWith('+PONG'));
      });
      socket.on('error', () => done(false));
    });
  }

  /** A plain client for looking at (or tampering with) what is stored. */
  client(): Redis {
    const r = new Redis(this.url, { maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    return r;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
