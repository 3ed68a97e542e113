import type { Logger } from 'pino';
import type { TcpJoin, TcpLocalSpec } from '../../contract/groups.js';
import { codecByName } from '../../ipc/codecs/index.js';
import { generateSecret, loadSecretSync } from '../../ipc/signing.js';
import type { Link } from '../../ipc/transports/link.js';
import type { PipeLink } from '../../ipc/transports/pipe.js';
import { TcpLocalListener, type Hello, type ListenerStats } from '../../ipc/transports/tcp.js';

/** A peer's hello, as sent by the framework's own processes: `role` says who takes it. */
export interface RoleHello extends Hello {
  role?: unknown;
  [field: string]: unknown;
}

/**
 * The main process's tcp_local endpoint: the secret of this run (generated, or read from
 * `secretFile`), the signed listener, and the hand-over of each connecting peer to whoever
 * takes its role (`group`: the group supervisor; `web`: the web process a supervisor is
 * starting, by its reply-to address).
 */
export class LocalHub {
  private listener: TcpLocalListener | undefined;
  private secret: Buffer | undefined;
  private readonly roles = new Map<string, (link: PipeLink, hello: RoleHello) => boolean>();
  private readonly webWaiters = new Map<string, (link: Link) => void>();

  constructor(
    private readonly spec: TcpLocalSpec,
    private readonly codec: string,
    private readonly logger: Logger,
  ) {
    this.roles.set('web', (link, hello) => {
      const take = typeof hello.replyTo === 'string' ? this.webWaiters.get(hello.replyTo) : undefined;
      if (!take) return false;
      this.webWaiters.delete(hello.replyTo as string);
      take(link);
      return true;
    });
  }

  get address(): { host: string; port: number } | undefined {
    return this.listener?.address;
  }

  get stats(): ListenerStats | undefined {
    return this.listener?.stats;
  }

  async start(): Promise<void> {
    const s = this.spec;
    this.secret = s.secretFile ? loadSecretSync(s.secretFile) : generateSecret();
    this.listener = new TcpLocalListener(
      { host: s.host, port: s.port, secret: this.secret, ttlSeconds: s.ttlSeconds, nonceCacheSize: s.nonceCacheSize, maxPayloadBytes: s.maxPayloadBytes, codec: codecByName(this.codec), allowRemote: s.allowRemote },
      (link, hello) => this.roles.get(String((hello as RoleHello).role))?.(link, hello as RoleHello) ?? false,
      this.logger,
    );
    await this.listener.listen();
  }

  /** What a peer needs to connect (the secret included): for the control channel or a 0600 file only. */
  join(): TcpJoin {
    const { host, port } = this.listener!.address!;
    const s = this.spec;
    return { codec: this.codec, host, port, ttlSeconds: s.ttlSeconds, nonceCacheSize: s.nonceCacheSize, maxPayloadBytes: s.maxPayloadBytes, secret: this.secret!.toString('base64') };
  }

  /** Peers that say hello with `role` are handed to `accept` (true: taken; false: dropped). */
  accept(role: string, accept: (link: PipeLink, hello: RoleHello) => boolean): void {
    this.roles.set(role, accept);
  }

  /** The next web peer saying hello as `replyTo` goes to `take`; the returned function stops waiting. */
  expectWeb(replyTo: string, take: (link: Link) => void): () => void {
    this.webWaiters.set(replyTo, take);
    return () => {
      if (this.webWaiters.get(replyTo) === take) this.webWaiters.delete(replyTo);
    };
  }

  async close(): Promise<void> {
    this.webWaiters.clear();
    await this.listener?.close();
  }
}
