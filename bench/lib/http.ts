import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Answer {
  status: number;
  type: string;
  text: string;
}

/** One request on its own connection: status, content type and body as text. */
export function fetchOnce(url: string, method: string, body?: string, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.end(body);
  });
}

/**
 * Asks again every `everyMs` until `ok` accepts an answer (a refused connection, a reset
 * or another status is a retry); throws after `deadlineMs`.
 */
export async function pollUntil(url: string, method: string, body: string | undefined, ok: (a: Answer) => boolean, deadlineMs: number, everyMs = 2): Promise<void> {
  const end = performance.now() + deadlineMs;
  let last = 'nothing';
  while (performance.now() < end) {
    try {
      const a = await fetchOnce(url, method, body, Math.max(1, end - performance.now()));
      if (ok(a)) return;
      last = `${a.status} ${a.text.slice(0, 100)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(everyMs);
  }
  throw new Error(`${method} ${url}: no good answer within ${deadlineMs} ms (last: ${last})`);
}
