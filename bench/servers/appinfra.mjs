// appinfra, from the built package (dist/, what `npm run build` makes and users run):
//   --mode direct-inline   direct mode, inline routes (withRoute closures, Fastify's own reply)
//   --mode direct-forward  direct mode, forward routes to engine handlers in this process
//   --mode subprocess      subprocess mode, forward routes; the engine is this process, the
//                          web process its child; --codec json|msgpack|v8; --restart-now:
//                          a crashed web process is restarted at once, without limit (the
//                          kill -9 measurement; the default waits 1 s); --transport tcp_local:
//                          the web process reaches the engine over signed loopback TCP
//                          instead of its pipe
//   --rate-limit           a rate limit nobody reaches (the limiter's cost)
//   --otel-api             the OpenTelemetry API loaded and a tracer taken in both processes, no SDK
//   --metrics              GET /metrics on (prom-client figures of every process)
//   --workers N            N web processes sharing the port (subprocess mode; default 1)
//   --mode redis           subprocess mode on the Redis backbone (role all: the web process
//                          and this process's engine worker meet in Redis at BENCH_REDIS_URL)
import { parseArgs } from 'node:util';
import { Queue, ServerBuilder } from '../../dist/index.js';
import { HOST, PORT, chunks, echo, event, onStop, ready, sseResponse } from './shared.mjs';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    codec: { type: 'string', default: 'json' },
    'restart-now': { type: 'boolean', default: false },
    'rate-limit': { type: 'boolean', default: false },
    transport: { type: 'string', default: 'pipe' },
    'otel-api': { type: 'boolean', default: false },
    metrics: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
  },
});
const mode = values.mode;
if (!['direct-inline', 'direct-forward', 'subprocess', 'redis'].includes(mode)) throw new Error(`--mode: direct-inline, direct-forward, subprocess or redis, not ${mode}`);

const top = new ServerBuilder(`bench-${mode}`).withHost(HOST).withPort(PORT);
if (values['otel-api']) {
  const setup = new URL('./otel-api.mjs', import.meta.url);
  await import(setup.href);
  top.withTracing(setup);
}
if (values.metrics) top.withMetrics();
let routes = top.routes;
if (mode === 'direct-inline') {
  routes = routes
    .withRoute('/echo', async (req) => echo(req.body), { methods: ['POST'] })
    .withRoute('/sse', async (_req, reply) => {
      const res = sseResponse(reply);
      for await (const chunk of chunks()) res.write(chunk);
      res.end();
    });
} else {
  routes = routes.withForward('/echo', { methods: ['POST'], handler: 'echo' }).withForward('/sse', { handler: 'sse', reply: 'sse' });
}
let builder = routes.done();
// --rate-limit: a limit no client reaches, so every request pays for the check and none is refused.
if (values['rate-limit']) builder = builder.withRateLimit('1000000000/hour');
if (mode === 'subprocess' || mode === 'redis') {
  const sub = builder.subprocess.withIpc(new Queue(), new Queue()).withCodec(values.codec);
  if (mode === 'redis') sub.withRedis(process.env.BENCH_REDIS_URL);
  if (values['restart-now']) sub.withAutoRestart(true, 0, 0);
  builder = sub.done();
  if (values.workers !== '1') builder = builder.uvicorn.withWorkers(Number(values.workers)).done();
  if (values.transport === 'tcp_local') builder = builder.withExecutionIpc({ web: true });
}
const server = builder.build();
server.engine.handle('echo', (req) => echo(req.body));
server.engine.handle('sse', () => chunks());
// Fork-to-listening of each web process, its pid (a restarted one has a new pid), and whether it
// started from the bundle's V8 code cache.
server.on('started', (info) => event({ event: 'started', pid: info.pid, ms: info.ms, codeCache: info.codeCache }));

const { url } = await server.listen();
onStop(() => server.stop(2));
const webs = server.processes.map((p, i, all) => ({ role: all.length === 1 ? 'web' : `web${i + 1}`, pid: p.pid }));
const pids = mode === 'subprocess' || mode === 'redis' ? [...webs, { role: 'engine', pid: process.pid }] : [{ role: 'main', pid: process.pid }];
ready(url, pids);
