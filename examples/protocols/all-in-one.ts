/**
 * One engine handler, four protocols: `ticks` serves an HTTP JSON route, an SSE route, a
 * WebSocket route and a GraphQL query + subscription, unchanged. The handler never learns
 * which protocol a request came by: its input is always `request.body` (the JSON body, a
 * WebSocket frame's `data`, a GraphQL field's arguments) and it yields chunks.
 *
 *   npx tsx examples/protocols/all-in-one.ts
 *   curl -s -XPOST localhost:8000/ticks -H 'content-type: application/json' -d '{"count":3}'
 *   curl -sN -XPOST localhost:8000/ticks/stream -H 'content-type: application/json' -d '{"count":3}'
 *   websocat ws://localhost:8000/ticks/ws   then send   {"data":{"count":3}}
 *   curl -s localhost:8000/graphql -H 'content-type: application/json' -d '{"query":"{ ticks(count: 3) { i label } }"}'
 */
import { ServerBuilder, type EngineContext, type ForwardRequest } from '../../src/index.js';
import { runAsScript, withQueues, type Example } from './serve.js';

interface TicksInput {
  count?: number;
  label?: string;
}

/** The engine handler: the protocol is the adapter's business, not this function's. */
export async function* ticks(request: ForwardRequest, ctx: EngineContext): AsyncGenerator<{ label: string; i: number }> {
  const { count = 3, label = 'tick' } = (request.body ?? {}) as TicksInput;
  for (let i = 0; i < count && !ctx.signal.aborted; i++) yield { label, i };
}

export const schema = /* GraphQL */ `
  type Tick { label: String!  i: Int! }
  type Query { ticks(count: Int, label: String): [Tick!]! }
  type Subscription { ticks(count: Int, label: String): Tick! }
`;

/** Subprocess mode: the web process gets only this route table, never the handler. */
export function createServer(port = 8000): Example {
  const { server, close } = withQueues(
    new ServerBuilder('all-in-one')
      .withPort(port)
      .routes.withForward('/ticks', { methods: ['POST'], handler: 'ticks' })
      .withForward('/ticks/stream', { methods: ['POST'], handler: 'ticks', reply: 'sse' })
      .withWebSocket('/ticks/ws', { handler: 'ticks' })
      .withGraphQL({ schema, resolvers: { Query: { ticks: 'ticks' }, Subscription: { ticks: 'ticks' } } })
      .done(),
  );
  server.engine.handle('ticks', ticks);
  return { server, close };
}

await runAsScript(import.meta, createServer, (url) => `all-in-one listening on ${url} (POST /ticks, POST /ticks/stream, ws /ticks/ws, /graphql)`);
