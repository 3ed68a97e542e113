import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Envelope } from '../../contract/envelope.js';
import { ConfigError } from '../../errors/index.js';
import { codecByName, type Codec } from '../codecs/index.js';
import type { TcpJoin } from '../../contract/groups.js';
import { FRAME_KINDS } from '../frame.js';
import { Signer, Verifier, type RefusalReason } from '../signing.js';
import { within } from '../../process/within.js';
import { PipeLink } from './pipe.js';
import { SignedFrameGuard } from './sealed.js';

/**
 * The tcp_local transport: PipeLink's frames over TCP, every one signed (./sealed.ts). A
 * listener in the main process; peers (web processes, group processes, a process started
 * by hand) connect with the address and the secret, and open with a signed `control`
 * envelope whose payload says who they are (`{ type: 'hello', ... }`). A peer whose frame
 * is refused is disconnected; the others are not touched.
 */
export interface TcpLocalSettings {
  host: string;
  port: number;
  secret: Buffer;
  ttlSeconds: number;
  nonceCacheSize: number;
  maxPayloadBytes: number;
  codec: Codec;
  /** Allow a bind host that is not a loopback address (the user said so explicitly). */
  allowRemote?: boolean;
}

/** A peer's first envelope: who it is. Only a peer holding the secret gets this far. */
export interface Hello {
  type: 'hello';
}

/** Seconds a new connection has to say hello before it is dropped. */
const HELLO_TIMEOUT_S = 10;

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Logs refusals at most once a second per reason, with how many were not logged: never the bytes or the secret. */
export class RefusalLog {
  private readonly last = new Map<RefusalReason, { at: number; skipped: number }>();

  constructor(private readonly logger: Logger | undefined) {}

  readonly note = (reason: RefusalReason, detail: string): void => {
    if (!this.logger) return;
    const now = Date.now();
    const seen = this.last.get(reason);
    if (seen && now - seen.at < 1000) {
      seen.skipped++;
      return;
    }
    this.logger.warn({ reason, detail, suppressed: seen?.skipped ?? 0 }, 'tcp_local: refused a frame; the peer is disconnected');
    this.last.set(reason, { at: now, skipped: 0 });
  };
}

export interface ListenerStats {
  connections: number;
  accepted: number;
  refused: Record<RefusalReason, number>;
  /** Peers dropped for a refused frame or for not saying hello in time. */
  dropped: number;
}

export class TcpLocalListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly verifier: Verifier;
  private readonly refusals: RefusalLog;
  private dropped = 0;
  address: { host: string; port: number } | undefined;

  constructor(
    private readonly settings: TcpLocalSettings,
    /** A peer said hello: take the link (set its onMessage) and return true, or false to drop it. */
    private readonly onPeer: (link: PipeLink, hello: Hello) => boolean,
    logger?: Logger,
  ) {
    if (!settings.allowRemote && !isLoopback(settings.host)) {
      throw new ConfigError(`execution_ipc.bind_host: got ${JSON.stringify(settings.host)}, expected a loopback address (127.0.0.1, ::1, localhost); set allow_remote: true to bind another one on purpose`);
    }
    this.verifier = verifierFor(settings);
    this.refusals = new RefusalLog(logger);
    this.server = createServer((socket) => this.onConnection(socket));
  }

  get stats(): ListenerStats {
    return { connections: this.sockets.size, accepted: this.verifier.accepted, refused: { ...this.verifier.refused }, dropped: this.dropped };
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.settings.host, port: this.settings.port, exclusive: true }, () => {
        this.server.off('error', reject);
        const a = this.server.address() as { port: number };
        this.address = { host: this.settings.host, port: a.port };
        resolve(this.address);
      });
    });
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const link = new PipeLink(socket, {
      codec: this.settings.codec,
      name: `tcp_local:${socket.remotePort}`,
      guard: new SignedFrameGuard({ signer: new Signer(this.settings.secret), verifier: this.verifier, maxPayloadBytes: this.settings.maxPayloadBytes, onRefused: this.refusals.note }),
    });
    let greeted = false;
    link.onClose((reason) => {
      if (reason.startsWith('protocol error') || !greeted) this.dropped++;
    });
    const timer = setTimeout(() => link.close(), HELLO_TIMEOUT_S * 1000);
    link.onClose(() => clearTimeout(timer));
    link.onMessage((e: Envelope) => {
      if (greeted) return;
      const hello = e.kind === 'control' ? (e.payload as Hello | undefined) : undefined;
      if (!hello || hello.type !== 'hello') {
        link.close();
        return;
      }
      greeted = true;
      clearTimeout(timer);
      if (!this.onPeer(link, hello)) link.close();
    });
  }

  /** Stops listening and disconnects every peer. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await within(new Promise<void>((resolve) => this.server.close(() => resolve())), 2000);
  }
}

function verifierFor(s: TcpLocalSettings): Verifier {
  return new Verifier({ secret: s.secret, ttlSeconds: s.ttlSeconds, nonceCacheSize: s.nonceCacheSize, maxPayloadBytes: s.maxPayloadBytes, kinds: FRAME_KINDS });
}

/** The settings a peer connects with, from the join data its parent (or a connect file) gave it. */
export function joinSettings(j: TcpJoin): TcpLocalSettings {
  return { host: j.host, port: j.port, secret: Buffer.from(j.secret, 'base64'), ttlSeconds: j.ttlSeconds, nonceCacheSize: j.nonceCacheSize, maxPayloadBytes: j.maxPayloadBytes, codec: codecByName(j.codec) };
}

/** Connects to a tcp_local listener and says hello; resolves with the signed link. */
export function connectTcpLocal(settings: TcpLocalSettings, hello: Hello & object, name: string, logger?: Logger): Promise<PipeLink> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: settings.host, port: settings.port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const verifier = verifierFor(settings);
      const link = new PipeLink(socket, {
        codec: settings.codec,
        name,
        guard: new SignedFrameGuard({ signer: new Signer(settings.secret), verifier, maxPayloadBytes: settings.maxPayloadBytes, onRefused: new RefusalLog(logger).note }),
      });
      link.send({ kind: 'control', id: 'hello', payload: hello });
      resolve(link);
    });
  });
}

