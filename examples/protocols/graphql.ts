/**
 * GraphQL (mercurius) as configuration: the SDL plus, per field, the engine handler that
 * resolves it. Queries and mutations go to the engine as requests; subscriptions are
 * engine streams carried over WebSocket (graphql-transport-ws). Field arguments are the
 * engine request's `body`. Works in subprocess mode: no resolver closure crosses over.
 *
 *   npx tsx examples/protocols/graphql.ts
 *   curl -s localhost:8000/graphql -H 'content-type: application/json' \
 *        -d '{"query":"mutation { addUser(name: \"Ada\") { id name } }"}'
 *   open http://localhost:8000/graphiql   (subscription { userAdded { id name } })
 */
import { EventEmitter, on } from 'node:events';
import { EngineError, ServerBuilder, type EngineContext, type ForwardRequest } from '../../src/index.js';
import { runAsScript, withQueues, type Example } from './serve.js';

export const schema = /* GraphQL */ `
  type User { id: ID!  name: String! }
  type Query { user(id: ID!): User  users: [User!]! }
  type Mutation { addUser(name: String!): User! }
  type Subscription { userAdded: User! }
`;

export const resolvers = {
  Query: { user: 'getUser', users: 'listUsers' },
  Mutation: { addUser: 'addUser' },
  Subscription: { userAdded: 'userEvents' },
};

interface User {
  id: string;
  name: string;
}

/** The engine's state: plain in-memory users and an event bus for the subscription. */
export function createEngine(): Record<string, (req: ForwardRequest, ctx: EngineContext) => unknown> {
  const users = new Map<string, User>();
  const bus = new EventEmitter();
  let next = 0;
  return {
    getUser: (req) => {
      const { id } = req.body as { id: string };
      const user = users.get(id);
      if (!user) throw new EngineError(404, `No user ${id}`, 'USER_NOT_FOUND');
      return user;
    },
    listUsers: () => [...users.values()],
    addUser: (req) => {
      const user = { id: String(++next), name: (req.body as { name: string }).name };
      users.set(user.id, user);
      bus.emit('added', user);
      return user;
    },
    // A stream for as long as the subscriber stays: the signal aborts when it completes or leaves.
    userEvents: async function* (_req: ForwardRequest, ctx: EngineContext): AsyncGenerator<User> {
      try {
        for await (const [user] of on(bus, 'added', { signal: ctx.signal })) yield user as User;
      } catch (err) {
        if (!ctx.signal.aborted) throw err;
      }
    },
  };
}

export function createServer(port = 8000): Example {
  const { server, close } = withQueues(
    new ServerBuilder('graphql-example')
      .withPort(port)
      .routes.withGraphQL({ schema, resolvers, graphiql: true })
      .done(),
  );
  for (const [name, handler] of Object.entries(createEngine())) server.engine.handle(name, handler);
  return { server, close };
}

await runAsScript(import.meta, createServer, (url) => `GraphQL on ${url}/graphql (GraphiQL at /graphiql)`);
