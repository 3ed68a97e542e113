/** Real protocol clients for the end-to-end tests: ws, SSE over fetch, graphql-transport-ws. */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { waitFor } from '../helpers.js';

export type Frame = { type: string; id?: string; key?: string; data?: unknown; error?: { statusCode: number; code: string; message: string }; cancelled?: boolean };

/** A WebSocket that records every frame it receives, in order. */
export class FrameSocket {
  readonly frames: Frame[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => this.frames.push(JSON.parse(raw.toString()) as Frame));
  }

  static async open(url: string, protocol?: string): Promise<FrameSocket> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocol);
    const s = new FrameSocket(ws);
    await once(ws, 'open');
    return s;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Frames for one stream tag (`id` or `key`). */
  of(tag: string, field: 'id' | 'key' = 'id'): Frame[] {
    return this.frames.filter((f) => f[field] === tag);
  }

  /** Waits until the stream `tag` has ended (end or error frame) and returns its frames. */
  async ended(tag: string, field: 'id' | 'key' = 'id', ms = 5000): Promise<Frame[]> {
    await waitFor(() => this.of(tag, field).some((f) => f.type === 'end' || f.type === 'error'), ms, `stream ${tag} to end`);
    return this.of(tag, field);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.close();
    await closed;
  }
}

/** Reads a whole SSE response: the `data:` payloads and any `event: error`. */
export async function readSse(res: Response): Promise<{ data: unknown[]; errors: unknown[] }> {
  const text = await res.text();
  const data: unknown[] = [];
  const errors: unknown[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const line = block.split('\n').find((l) => l.startsWith('data: '));
    if (!line) continue;
    const value = JSON.parse(line.slice(6));
    if (block.startsWith('event: error')) errors.push(value);
    else data.push(value);
  }
  return { data, errors };
}

export const postJson = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** A minimal graphql-transport-ws client (the protocol mercurius speaks for subscriptions). */
export class GraphQLSocket {
  private constructor(readonly socket: FrameSocket) {}

  static async open(url: string): Promise<GraphQLSocket> {
    const socket = await FrameSocket.open(url, 'graphql-transport-ws');
    socket.send({ type: 'connection_init' });
    await waitFor(() => socket.frames.some((f) => f.type === 'connection_ack'), 5000, 'connection_ack');
    return new GraphQLSocket(socket);
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>): void {
    this.socket.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  complete(id: string): void {
    this.socket.send({ id, type: 'complete' });
  }

  /** `next` payloads received for a subscription so far. */
  events(id: string): unknown[] {
    return this.socket.frames.filter((f) => f.id === id && f.type === 'next').map((f) => (f as unknown as { payload: unknown }).payload);
  }

  async completed(id: string): Promise<Frame[]> {
    await waitFor(() => this.socket.frames.some((f) => f.id === id && (f.type === 'complete' || f.type === 'error')), 5000, `subscription ${id} to complete`);
    return this.socket.frames.filter((f) => f.id === id);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}
