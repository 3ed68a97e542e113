/**
 * HTTP/2: `.uvicorn.withHttp2()`. With `.uvicorn.withSsl(key, cert)` it serves h2 over
 * TLS, negotiated by ALPN, with HTTP/1.1 as the fallback; without TLS it serves h2c
 * (prior knowledge) for loopback or a proxy. Routes and SSE streams are unchanged: the
 * same forward routes, the same engine handlers.
 *
 *   npx tsx examples/protocols/http2.ts            (makes a self-signed cert with openssl)
 *   curl -sk --http2 https://localhost:8443/hello
 *   curl -skN --http2 https://localhost:8443/events
 *   h2load -n 1000 -c 4 -m 10 https://127.0.0.1:8443/hello
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerBuilder, type ForwardRequest } from '../../src/index.js';
import { runAsScript, withQueues, type Example } from './serve.js';

/** A throwaway self-signed certificate for localhost (development and tests only). */
export function selfSignedCert(dir = mkdtempSync(join(tmpdir(), 'appinfra-h2-'))): { key: string; cert: string; dir: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key, cert, dir };
}

export function hello(request: ForwardRequest): { message: string } {
  return { message: `Hello, ${String((request.query as { name?: string }).name ?? 'world')}!` };
}

export async function* events(request: ForwardRequest): AsyncGenerator<{ n: number }> {
  const count = Number((request.query as { count?: string }).count ?? 3);
  for (let n = 0; n < count; n++) yield { n };
}

export interface Http2ExampleOptions {
  port?: number;
  /** PEM paths; without them the server speaks h2c. */
  tls?: { key: string; cert: string };
}

export function createServer(options: Http2ExampleOptions = {}): Example {
  let builder = new ServerBuilder('http2-example')
    .withPort(options.port ?? 8443)
    .routes.withForward('/hello', { handler: 'hello' })
    .withForward('/events', { handler: 'events', reply: 'sse' })
    .done()
    .uvicorn.withHttp2()
    .done();
  if (options.tls) builder = builder.uvicorn.withSsl(options.tls.key, options.tls.cert).done();
  const { server, close } = withQueues(builder);
  server.engine.handle('hello', hello).handle('events', events);
  return { server, close };
}

let certDir = '';
const withCert = (port: number): Example => {
  const tls = selfSignedCert();
  certDir = tls.dir;
  return createServer({ port, tls });
};
await runAsScript(import.meta, withCert, (url) => `h2 (and HTTP/1.1) on ${url}; self-signed cert in ${certDir}`, 8443);
