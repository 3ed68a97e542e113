/** Real HTTP clients for the supervision tests: node:http, keep-alive or not, no retries. */
import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request; rejects on a network error (reset, refused), never retries. */
export function hit(url: string, options: { method?: string; body?: unknown; agent?: Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      url,
      {
        method: options.method ?? (payload ? 'POST' : 'GET'),
        agent: options.agent ?? false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface LoadResult {
  ok: number;
  /** Non-200 answers and network errors, with what they were. */
  failures: string[];
}

/**
 * `clients` loops, each sending `perClient` requests back to back (keep-alive when an
 * agent is given), and then more while `more()` says so; each request has its own token
 * and its reply must carry it.
 */
export async function load(url: string, clients: number, perClient: number, agent: Agent | false, more: () => boolean = () => false): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failures: [] };
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient || more(); i++) {
        const token = `c${c}-r${i}-${Math.random().toString(36).slice(2)}`;
        try {
          const r = await hit(url, { body: { token }, agent });
          if (r.status !== 200) result.failures.push(`status ${r.status}: ${r.body}`);
          else if ((JSON.parse(r.body) as { token?: string }).token !== token) result.failures.push(`crossed reply: sent ${token}, got ${r.body}`);
          else result.ok++;
        } catch (err) {
          result.failures.push(`network: ${(err as Error).message}`);
        }
      }
    }),
  );
  return result;
}
