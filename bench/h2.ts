/**
 * HTTP/2 vs HTTP/1.1, side by side in one run, with h2load (Debian's nghttp2-client).
 * The server is a subprocess-mode appinfra server (web process + engine in this one);
 * the route is a forward route, so every request crosses the IPC hop to the engine.
 *
 *   npx tsx bench/h2.ts [seconds-per-run=3] [clients=8]
 *
 * Cases: on one TLS server (h2 with HTTP/1.1 fallback) h2load speaks h2 and then
 * HTTP/1.1 (--h1); then a cleartext HTTP/1.1 server against an h2c server. Each run is
 * time-bounded (-D) after a warm-up; 127.0.0.1 only. Servers run one at a time.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { Queue, ServerBuilder, type Server } from '../src/index.js';
import { selfSignedCert } from '../examples/protocols/http2.js';

const run = promisify(execFile);
const seconds = Number(process.argv[2] ?? 3);
const clients = Number(process.argv[3] ?? 8);
const H2LOAD = process.env.H2LOAD ?? '/usr/bin/h2load';

interface Result {
  name: string;
  rps: number;
  ok: number;
  failed: number;
  /** Mean time per request, as h2load prints it. */
  mean: string;
}

async function withServer<T>(opts: { http2: boolean; tls?: { key: string; cert: string } }, fn: (url: string) => Promise<T>): Promise<T> {
  const requestQ = new Queue();
  const responseQ = new Queue();
  let b = new ServerBuilder('bench-h2').withHost('127.0.0.1').withPort(0).routes.withForward('/hello', { handler: 'hello' }).done();
  if (opts.http2) b = b.uvicorn.withHttp2().done();
  if (opts.tls) b = b.uvicorn.withSsl(opts.tls.key, opts.tls.cert).done();
  const server: Server = b.subprocess.withIpc(requestQ, responseQ).done().build();
  server.engine.handle('hello', () => ({ message: 'Hello, world!' }));
  const { url } = await server.listen();
  try {
    return await fn(url);
  } finally {
    await server.stop();
    requestQ.close();
    responseQ.close();
  }
}

async function h2load(name: string, url: string, extra: string[]): Promise<Result> {
  const args = ['-D', String(seconds), '--warm-up-time=1', '-c', String(clients), '-t', '1', ...extra, url];
  // Hard bound: h2load's own duration plus warm-up plus slack.
  const { stdout } = await run(H2LOAD, args, { timeout: (seconds + 10) * 1000 });
  const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? NaN);
  const req = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(stdout);
  const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(stdout)?.[1] ?? '?';
  return { name, rps, ok: Number(req?.[1] ?? 0), failed: Number(req?.[2] ?? 0), mean };
}

const results: Result[] = [];
const tls = selfSignedCert();
try {
  await withServer({ http2: true, tls }, async (url) => {
    results.push(await h2load('h2 (TLS), 1 stream/conn', `${url}/hello`, ['-m', '1']));
    results.push(await h2load('h2 (TLS), 10 streams/conn', `${url}/hello`, ['-m', '10']));
    results.push(await h2load('HTTP/1.1 (TLS, same server)', `${url}/hello`, ['--h1']));
  });
  await withServer({ http2: false }, async (url) => {
    results.push(await h2load('HTTP/1.1 (cleartext)', `${url}/hello`, ['--h1']));
  });
  await withServer({ http2: true }, async (url) => {
    results.push(await h2load('h2c, 1 stream/conn', `${url}/hello`, ['-m', '1']));
    results.push(await h2load('h2c, 10 streams/conn', `${url}/hello`, ['-m', '10']));
  });
} finally {
  rmSync(tls.dir, { recursive: true, force: true });
}

const base = (name: string) => results.find((r) => r.name === name)!.rps;
const tlsH1 = base('HTTP/1.1 (TLS, same server)');
const clearH1 = base('HTTP/1.1 (cleartext)');
console.log(`h2load ${seconds}s per run, ${clients} connections, 1 thread, 127.0.0.1, GET /hello (forward route -> engine)\n`);
console.log('case'.padEnd(32) + 'req/s'.padStart(10) + '  vs HTTP/1.1'.padStart(14) + '  mean'.padStart(10) + '  ok/failed');
for (const r of results) {
  const ref = r.name.includes('TLS') ? tlsH1 : clearH1;
  console.log(r.name.padEnd(32) + r.rps.toFixed(0).padStart(10) + `${(r.rps / ref).toFixed(2)}x`.padStart(14) + r.mean.padStart(10) + `  ${r.ok}/${r.failed}`);
}
