// Baseline 1: plain Fastify in one process, no appinfra.
import Fastify from 'fastify';
import { HOST, PORT, chunks, echo, onStop, ready, sseResponse } from './shared.mjs';

const app = Fastify();
app.post('/echo', async (req) => echo(req.body));
app.get('/sse', async (_req, reply) => {
  const res = sseResponse(reply);
  for await (const chunk of chunks()) res.write(chunk);
  res.end();
});
await app.listen({ host: HOST, port: PORT });
onStop(() => app.close());
ready(`http://${HOST}:${app.server.address().port}`, [{ role: 'main', pid: process.pid }]);
