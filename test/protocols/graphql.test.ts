import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, createServer, schema } from '../../examples/protocols/graphql.js';
import { BuildError, ServerBuilder, type EngineContext } from '../../src/index.js';
import { assertNoLeaks, resourcesNow, waitFor } from '../helpers.js';
import { GraphQLSocket, postJson } from './clients.js';

let baseline: string[];
let url: string;
let close: () => Promise<void>;
/** Every engine request, with the port it arrived on. */
const calls: { handler: string; port: string; body: unknown; ctx: EngineContext }[] = [];

before(async () => {
  baseline = resourcesNow();
  const made = createServer(0);
  close = made.close;
  // Observe what reaches the engine; the example's handlers themselves run unchanged.
  for (const [name, handler] of Object.entries(createEngine())) {
    made.server.engine.handle(name, (req, ctx) => {
      calls.push({ handler: name, port: ctx.port, body: req.body, ctx });
      return handler(req, ctx);
    });
  }
  ({ url } = await made.server.listen());
  assert.equal(made.server.processes.length, 1);
});

after(async () => {
  await close();
  await assertNoLeaks(baseline);
});

async function gql(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/graphql`, postJson({ query, variables }));
  return { status: res.status, body: await res.json() };
}

test('mutations and queries are resolved by engine handlers; arguments are the request body', async () => {
  const added = await gql('mutation($n: String!) { addUser(name: $n) { id name } }', { n: 'Ada' });
  assert.equal(added.status, 200);
  assert.deepEqual(added.body, { data: { addUser: { id: '1', name: 'Ada' } } });
  const one = await gql('{ user(id: "1") { name } users { id } }');
  assert.deepEqual(one.body, { data: { user: { name: 'Ada' }, users: [{ id: '1' }] } });
  assert.deepEqual(calls.find((c) => c.handler === 'addUser')?.body, { name: 'Ada' });
  assert.deepEqual(calls.find((c) => c.handler === 'getUser')?.body, { id: '1' });
  assert.ok(calls.filter((c) => c.handler !== 'userEvents').every((c) => c.port === 'request'));
  // GET works too (mercurius), through the same resolvers.
  const viaGet = await fetch(`${url}/graphql?query=${encodeURIComponent('{ users { name } }')}`);
  assert.deepEqual(await viaGet.json(), { data: { users: [{ name: 'Ada' }] } });
});

test('an engine error keeps its status and code in the GraphQL error; other fields still resolve', async () => {
  const res = await gql('{ user(id: "404") { name } users { id } }');
  assert.equal(res.body.data.user, null);
  assert.ok(Array.isArray(res.body.data.users));
  const [err] = res.body.errors;
  assert.equal(err.message, 'No user 404');
  assert.deepEqual(err.extensions, { code: 'USER_NOT_FOUND', statusCode: 404 });
  assert.deepEqual(err.path, ['user']);
});

test('a subscription is an engine stream on the stream port, delivered over WebSocket in order', async () => {
  const ws = await GraphQLSocket.open(`${url}/graphql`);
  try {
    const before = calls.length;
    ws.subscribe('s', 'subscription { userAdded { id name } }');
    await waitFor(() => calls.slice(before).some((c) => c.handler === 'userEvents'), 5000, 'the engine stream to open');
    const sub = calls.slice(before).find((c) => c.handler === 'userEvents')!;
    assert.equal(sub.port, 'stream');
    assert.equal(sub.ctx.isStream, true);
    await gql('mutation { a: addUser(name: "Bo") { id } }');
    await gql('mutation { b: addUser(name: "Cy") { id } }');
    await waitFor(() => ws.events('s').length === 2, 5000, 'two events');
    assert.deepEqual(
      ws.events('s').map((p) => (p as { data: { userAdded: { name: string } } }).data.userAdded.name),
      ['Bo', 'Cy'],
    );
    // Completing the subscription cancels the engine's stream.
    ws.complete('s');
    await waitFor(() => sub.ctx.signal.aborted, 5000, 'the engine to see the subscription end');
  } finally {
    await ws.close();
  }
});

test('closing the socket cancels its subscriptions in the engine', async () => {
  const ws = await GraphQLSocket.open(`${url}/graphql`);
  const before = calls.length;
  ws.subscribe('x', 'subscription { userAdded { id } }');
  ws.subscribe('y', 'subscription { userAdded { name } }');
  await waitFor(() => calls.slice(before).filter((c) => c.handler === 'userEvents').length === 2, 5000, 'two engine streams');
  const subs = calls.slice(before).filter((c) => c.handler === 'userEvents');
  await ws.close();
  await waitFor(() => subs.every((s) => s.ctx.signal.aborted), 5000, 'both to be cancelled');
});

test('the resolver map is checked at build(): unknown fields and functions are refused', () => {
  const build = (resolvers: unknown) => () =>
    new ServerBuilder('g').routes.withGraphQL({ schema, resolvers: resolvers as Record<string, Record<string, string>> }).done().build();
  assert.throws(build({ Query: { nope: 'x' } }), (e: unknown) => e instanceof BuildError && /Query\.nope/.test(e.message));
  assert.throws(build({ Nope: { a: 'x' } }), /no object type "Nope"/);
  assert.throws(build({ Query: { users: () => [] } }), /functions cannot reach the web process/);
  assert.throws(() => new ServerBuilder('g').routes.withGraphQL({ schema: 'type Query {', resolvers: {} }), /not valid GraphQL SDL/);
});
