/** A small promise wrapper over Node's http2 client for the tests. */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { once } from 'node:events';

export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export async function connectH2(url: string, ca?: Buffer): Promise<ClientHttp2Session> {
  const session = http2.connect(url, ca ? { ca } : {});
  // An unheard session error would crash the test process; requests report their own.
  session.on('error', () => undefined);
  await once(session, 'connect');
  return session;
}

export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: unknown): ClientHttp2Stream {
  const req = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) req.end(JSON.stringify(body));
  return req;
}

export async function h2Fetch(session: ClientHttp2Session, path: string, init: { method?: string; body?: unknown } = {}): Promise<H2Response> {
  const headers: OutgoingHttpHeaders = { ':path': path, ':method': init.method ?? (init.body === undefined ? 'GET' : 'POST') };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const req = h2Request(session, headers, init.body);
  const [resHeaders] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
  req.setEncoding('utf8');
  let text = '';
  for await (const chunk of req) text += chunk as string;
  return { status: Number(resHeaders[':status']), headers: resHeaders, body: text };
}

export async function closeH2(session: ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return;
  const closed = once(session, 'close');
  session.close();
  await closed;
}
