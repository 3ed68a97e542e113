/**
 * What supervision costs, measured side by side in one run:
 *  1. restart time after `kill -9` of a web process: with one worker, from the kill until
 *     the port serves again (restartDelay 0, so this is detection + spawn + start-up);
 *     with two workers, until the replacement listens (the port never stopped serving).
 *  2. the throughput cost of recycling by `limitMaxRequests`: the same keep-alive load
 *     against two workers without recycling, then with a recycle every N requests.
 *
 *   npx tsx bench/restart.ts [kills=5] [seconds-per-load=5] [clients=32]
 *
 * The web processes run under the same loader as this script: with tsx, their start-up
 * includes compiling TypeScript. For numbers a user of the built package sees, build
 * and run it as JavaScript:
 *   npx tsc -p tsconfig.json --outDir /tmp/d && npx esbuild bench/restart.ts --format=esm \
 *     --outfile=/tmp/b/restart.mjs && sed -i 's#../src/index.js#/tmp/d/index.js#' /tmp/b/restart.mjs \
 *     && node /tmp/b/restart.mjs
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, ServerBuilder, type Server } from '../src/index.js';

const kills = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const clients = Number(process.argv[4] ?? 32);

function build(workers: number, maxRequests: number | null = null): Server {
  const server = new ServerBuilder('bench-restart')
    .withPort(0)
    .routes.withForward('/token', { methods: ['POST'], handler: 'token' })
    .done()
    .uvicorn.withWorkers(workers)
    .withLimitMaxRequests(maxRequests)
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .withMaxPending(1000)
    .withAutoRestart(true, 0, 0)
    .done()
    .build();
  server.engine.handle('token', (req: { body: { token: string } }) => ({ token: req.body.token }));
  return server;
}

function get(url: string, agent: Agent | false = false, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method: payload ? 'POST' : 'GET', agent, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function whoami(url: string): Promise<number | undefined> {
  try {
    // /_health names the web process that answered.
    return (JSON.parse((await get(`${url}/_health`)).text) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(0)} ms, min ${s[0]!.toFixed(0)}, max ${s[s.length - 1]!.toFixed(0)} (n=${s.length})`;
}

async function restartOneWorker(): Promise<number[]> {
  const server = build(1);
  const { url } = await server.listen();
  const out: number[] = [];
  for (let i = 0; i < kills; i++) {
    const pid = server.pid!;
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    for (;;) {
      const who = await whoami(url);
      if (who !== undefined && who !== pid) break;
      await sleep(2);
    }
    out.push(performance.now() - t0);
  }
  await server.stop(1);
  return out;
}

async function restartOfTwo(): Promise<{ ready: number[]; failedRequests: number; served: number }> {
  const server = build(2);
  const { url } = await server.listen();
  const ready: number[] = [];
  // Clients keep hitting the port through every kill: with two workers it never goes dark.
  let running = true;
  let failedRequests = 0;
  let served = 0;
  const loop = (async () => {
    while (running) {
      try {
        if ((await get(`${url}/_health`)).status === 200) served++;
      } catch {
        failedRequests++;
      }
    }
  })();
  for (let i = 0; i < kills; i++) {
    const victim = server.processes[0]!.pid!;
    const started = new Promise<void>((resolve) => server.once('started', () => resolve()));
    const t0 = performance.now();
    process.kill(victim, 'SIGKILL');
    await started;
    ready.push(performance.now() - t0);
  }
  running = false;
  await loop;
  await server.stop(1);
  return { ready, failedRequests, served };
}

async function throughput(maxRequests: number | null): Promise<{ rps: number; recycles: number; failures: number }> {
  const server = build(2, maxRequests);
  let recycles = 0;
  server.on('recycle', () => recycles++);
  const { url } = await server.listen();
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  // Warm-up: JIT, connections.
  const warmEnd = performance.now() + 500;
  let ok = 0;
  let failures = 0;
  let counting = false;
  let end = warmEnd;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < end || !counting; i++) {
        if (!counting && performance.now() >= warmEnd) {
          counting = true;
          ok = 0;
          end = performance.now() + seconds * 1000;
        }
        try {
          const r = await get(`${url}/token`, agent, { token: `${c}.${i}` });
          if (r.status === 200) ok++;
          else failures++;
        } catch {
          failures++;
        }
      }
    }),
  );
  agent.destroy();
  await server.stop(2);
  return { rps: ok / seconds, recycles, failures };
}

const one = await restartOneWorker();
console.log(`kill -9, 1 worker:  port serves again after ${stats(one)}`);
const two = await restartOfTwo();
console.log(`kill -9, 2 workers: replacement listening after ${stats(two.ready)}; meanwhile ${two.served} requests served, ${two.failedRequests} failed (in flight on the killed process)`);

const base = await throughput(null);
const every = Math.max(500, Math.round((base.rps * seconds) / 2 / 4));
const recycled = await throughput(every);
console.log(`keep-alive load, 2 workers, ${clients} clients, ${seconds}s each:`);
console.log(`  no recycling:                    ${base.rps.toFixed(0)} req/s, ${base.failures} failures`);
console.log(`  recycle every ${every} requests: ${recycled.rps.toFixed(0)} req/s, ${recycled.failures} failures, ${recycled.recycles} recycles`);
const lost = (base.rps - recycled.rps) * seconds;
console.log(
  `  ratio ${(recycled.rps / base.rps).toFixed(3)}; ~${recycled.recycles ? (lost / recycled.recycles).toFixed(0) : '-'} requests of throughput per recycle ` +
    `(${recycled.recycles ? ((lost / recycled.recycles / base.rps) * 1000).toFixed(0) : '-'} ms of full-speed serving)`,
);
