/**
 * The one protocol table. Every room that needs to know "which port, is it a socket,
 * which methods" reads it here: the builder (checks), the app file (kinds, interfaces,
 * ports), the web process's adapter registry and the CLI's route table. A new protocol is
 * a new row here plus an adapter in runtime/web/adapters (docs/protocols.md).
 */
import type { Port } from './envelope.js';
import type { HttpMethod } from './web-spec.js';

/**
 * How a forward route answers: one JSON body, a Server-Sent Events stream of chunks, a
 * WebSocket (each incoming frame starts a stream on the `stream` port), a keyed
 * WebSocket (many logical streams on the `kv_stream` port, one per key), or a GraphQL
 * endpoint whose fields map to engine handlers. Every mode reaches the engine through
 * the same channel; only the adapter at the edge differs.
 */
export type ReplyMode = 'json' | 'sse' | 'websocket' | 'kv_stream' | 'graphql';

/** Seed 000's interface kinds: what serves a protocol at the edge. */
export type InterfaceKind = 'http' | 'websocket' | 'graphql';

export interface Protocol {
  /** Engine ports it uses; requests go to the first (GraphQL subscriptions use `stream`). */
  ports: readonly Port[];
  /** A WebSocket upgrade: one GET, frames carry the data, no request body. */
  socket: boolean;
  /** Answers with a stream of chunks rather than one body. */
  stream: boolean;
  /** Methods a route of this protocol answers when none are given. */
  defaultMethods: readonly HttpMethod[];
  /** The seed-000 interface kind that serves it. */
  interface: InterfaceKind;
  /** The endpoint `kind` an app file names it by; null: declared in code only (withGraphQL). */
  fileKind: string | null;
}

export const PROTOCOLS = {
  json: { ports: ['request'], socket: false, stream: false, defaultMethods: ['GET'], interface: 'http', fileKind: 'http' },
  sse: { ports: ['stream'], socket: false, stream: true, defaultMethods: ['GET'], interface: 'http', fileKind: 'sse' },
  websocket: { ports: ['stream'], socket: true, stream: true, defaultMethods: ['GET'], interface: 'websocket', fileKind: 'websocket' },
  kv_stream: { ports: ['kv_stream'], socket: true, stream: true, defaultMethods: ['GET'], interface: 'websocket', fileKind: 'kv_stream' },
  graphql: { ports: ['request', 'stream'], socket: false, stream: false, defaultMethods: ['GET', 'POST'], interface: 'graphql', fileKind: null },
} as const satisfies Record<ReplyMode, Protocol>;

export const REPLY_MODES = Object.keys(PROTOCOLS) as readonly ReplyMode[];

/** The reply modes `withForward({ reply })` takes: every one an app file can name too. */
export const FORWARD_REPLY_MODES = REPLY_MODES.filter((m) => PROTOCOLS[m].fileKind !== null);

export function protocolOf(mode: ReplyMode): Protocol {
  return PROTOCOLS[mode];
}

export function isReplyMode(value: unknown): value is ReplyMode {
  return typeof value === 'string' && Object.hasOwn(PROTOCOLS, value);
}

/** Ports an interface kind may bind: its protocols' ports, and `response` wherever `request` is. */
export function bindablePorts(kind: InterfaceKind): Port[] {
  const ports = new Set<Port>();
  for (const mode of REPLY_MODES) {
    const p = PROTOCOLS[mode];
    if (p.interface !== kind) continue;
    for (const port of p.ports) {
      ports.add(port);
      if (port === 'request') ports.add('response');
    }
  }
  return (['request', 'response', 'stream', 'kv_stream'] as const).filter((p) => ports.has(p));
}
