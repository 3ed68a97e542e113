/**
 * Seed example 2: a subprocess-isolated server with queue IPC.
 *
 *   npx tsx examples/02-subprocess/main.ts      (PORT=9000 to change the port; default 8000)
 *
 * The HTTP server (Fastify) runs in child processes ("web processes"); this process is
 * the engine: it takes requests from `requestQ` and puts results on `responseQ`, as the
 * seed's Python loop does. Nothing in this file runs in a web process: the routes are
 * either plain data (`withForward`) or modules the web process imports by URL
 * (`fromModule`, `withRouter`). Ctrl-C or SIGTERM stops it cleanly.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// In your own project: import { ... } from 'appinfra';
import { Queue, QueueClosedError, QueueEmptyError, ServerBuilder, type ForwardRequest } from '../../src/index.js';

/** What POST /process carries (validated by the web process against the schema below). */
interface ProcessBody {
  text: string;
  rounds?: number;
}

/** What reaches `requestQ`: a forward-route request, or what a route module submitted. */
type EngineRequest = (ForwardRequest & { op?: undefined; body: ProcessBody }) | { id: string; op: 'stats' };

// Create the IPC queues. They stay in this process; the framework links them to the web processes.
const requestQ = new Queue<EngineRequest>();
const responseQ = new Queue<Record<string, unknown> & { id: string }>();

const logFile = process.env.API_LOG_FILE ?? join(tmpdir(), 'appinfra-examples', 'worker-api.log');

const server = new ServerBuilder('worker-api')
  // The seed binds 0.0.0.0; an example is safer on loopback (HOST=0.0.0.0 to expose it).
  .withHost(process.env.HOST ?? '127.0.0.1')
  .withPort(Number(process.env.PORT ?? 8000))
  .routes
  // The seed's `/health` handler: code, so it lives in a route module the web process imports.
  .fromModule(new URL('./routes.ts', import.meta.url))
  // The seed's `process_handler`: no code in the web process at all. The body is validated
  // there (a bad body is a 422 that never reaches the engine) and the rest comes to requestQ.
  .withForward('/process', {
    methods: ['POST'],
    summary: 'Hash a text `rounds` times (a stand-in for heavy computation in the engine)',
    schema: {
      body: {
        type: 'object',
        required: ['text'],
        additionalProperties: false,
        properties: {
          text: { type: 'string', minLength: 1, maxLength: 10000 },
          rounds: { type: 'integer', minimum: 1, maximum: 100000 },
        },
      },
    },
  })
  // The seed's `with_router(my_router, prefix="/api/v1")`: a router is a Fastify plugin;
  // in subprocess mode it is given as a module URL, since a function cannot cross processes.
  .withRouter(new URL('./api-v1.ts', import.meta.url), { prefix: '/api/v1', tags: ['v1'] })
  .withCors(['http://localhost:3000'])
  .done()
  .subprocess.withIpc(requestQ, responseQ)
  .withLogFile(logFile)
  .withMaxPending(200)
  .withResponseTimeout(30)
  .done()
  .uvicorn.withWorkers(Number(process.env.WORKERS ?? 2))
  .withLogLevel('info')
  .withAccessLog(true)
  .done()
  .build();

/** The seed's `heavy_computation`: synchronous CPU work, which is why it lives here and not in the web process. */
let processed = 0;
function heavyComputation(request: ForwardRequest & { body: ProcessBody }): { id: string; digest: string; rounds: number } {
  const rounds = request.body.rounds ?? 1000;
  let digest = request.body.text;
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest('hex');
  processed++;
  return { id: request.id, digest, rounds };
}

// Start the API server in its subprocesses.
const proc = await server.startSubprocess();
console.log(`API server started (pid=${proc.pid}; web pids=${server.processes.map((p) => p.pid).join(',')}; engine pid=${process.pid}; log file ${logFile})`);
console.log(`listening on ${server.address!.url}`);

// Ctrl-C / SIGTERM: stop the web processes (in-flight requests finish first: the loop below
// keeps answering them), then end the loop. A server that stops by itself ends it too.
let stopping = false;
const shutdown = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  void server.stop(5);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
void server.waitStopped().then(() => requestQ.close());

// The main process handles requests via the queues: the seed's loop, `except Empty: continue` included.
for (;;) {
  let request: EngineRequest;
  try {
    request = await requestQ.get({ timeout: 1 });
  } catch (err) {
    if (err instanceof QueueEmptyError) continue;
    if (err instanceof QueueClosedError) break; // the server has stopped
    throw err;
  }
  if (request.op === 'stats') {
    void responseQ.put({ id: request.id, processed, engine: { pid: process.pid, uptime: Math.round(process.uptime()) } });
  } else {
    void responseQ.put(heavyComputation(request));
  }
}

process.off('SIGINT', shutdown);
process.off('SIGTERM', shutdown);
console.log('stopped');
