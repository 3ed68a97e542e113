// Baseline 2, the web side of the hand bridge: Fastify in a child process, each request
// sent to the parent with process.send({ id, ... }) and answered by id.
import Fastify from 'fastify';
import { HOST, PORT, sseResponse } from './shared.mjs';

let nextId = 0;
/** id -> what to do with the parent's answer. */
const pending = new Map();

process.on('message', (m) => {
  const p = pending.get(m.id);
  if (!p) return;
  if (m.chunk !== undefined) return p.chunk(m.chunk);
  pending.delete(m.id);
  if (m.end) p.end();
  else p.result(m.result);
});
// The parent is gone: nothing can be answered any more.
process.on('disconnect', () => process.exit(0));

const app = Fastify();
app.post('/echo', (req) => new Promise((resolve) => {
  const id = ++nextId;
  pending.set(id, { result: resolve });
  process.send({ id, route: 'echo', body: req.body });
}));
app.get('/sse', (_req, reply) => {
  const res = sseResponse(reply);
  const id = ++nextId;
  pending.set(id, { chunk: res.write, end: res.end });
  process.send({ id, route: 'sse' });
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
await app.listen({ host: HOST, port: PORT });
process.send({ type: 'ready', port: app.server.address().port });
