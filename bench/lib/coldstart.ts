import { spawn } from 'node:child_process';
import { fetchOnce, pollUntil, type Answer } from './http.js';
import { freePort, startServer, stopServer, type Running, type ServerSpec } from './servers.js';

export interface ColdStartResult {
  /** Spawn of `node <server>` to the first 200 from POST /echo, per server key, ms. */
  firstAnswerMs: Record<string, number[]>;
  /** appinfra's own `started` event: fork of the web process to listening, ms. */
  webForkToListeningMs: number[];
  /** Per web process start: whether it took the bundle's V8 code cache (accepted, absent, ...). */
  webCodeCache: Record<string, number>;
  /** One web worker, restart delay 0: kill -9 of the web process to the next 200 from POST /echo, ms. */
  kill9ToServingMs: number[];
  /**
   * Spawn to exit of `node -e 0`, once per round: what any Node process costs on this machine
   * before it runs a line (an environment such as NODE_EXTRA_CA_CERTS adds to it).
   */
  nodeBareMs: number[];
  leaked: number[];
}

function bareNode(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - t0));
  });
}

function echoed(body: string): (a: Answer) => boolean {
  return (a) => a.status === 200 && a.text.length > 0 && JSON.stringify(JSON.parse(a.text)) === body;
}

/**
 * Cold start, `n` times per server, interleaved (one start of each per round): the clock
 * runs from the spawn to the first right answer, polled every 2 ms on a port chosen here.
 */
export async function coldStarts(specs: ServerSpec[], n: number, body: string, env: Record<string, string>, log: (s: string) => void): Promise<ColdStartResult> {
  const out: ColdStartResult = { firstAnswerMs: Object.fromEntries(specs.map((s) => [s.key, []])), webForkToListeningMs: [], webCodeCache: {}, kill9ToServingMs: [], nodeBareMs: [], leaked: [] };
  for (let i = 0; i < n; i++) {
    out.nodeBareMs.push(await bareNode());
    for (const spec of specs) {
      const port = await freePort();
      const t0 = performance.now();
      const starting = startServer(spec, { ...env, PORT: String(port) });
      // A failed start-up is reported by the poll's deadline; keep the rejection handled meanwhile.
      starting.catch(() => undefined);
      try {
        await pollUntil(`http://127.0.0.1:${port}/echo`, 'POST', body, echoed(body), 30_000);
        out.firstAnswerMs[spec.key]!.push(performance.now() - t0);
      } finally {
        const r = await starting.catch(() => undefined);
        if (r) {
          out.webForkToListeningMs.push(...r.started.map((s) => s.ms));
          for (const s of r.started) out.webCodeCache[s.codeCache ?? 'none'] = (out.webCodeCache[s.codeCache ?? 'none'] ?? 0) + 1;
          out.leaked.push(...(await stopServer(r)));
        }
      }
    }
    log(`  cold start ${i + 1}/${n}: ${specs.map((s) => `${s.key} ${out.firstAnswerMs[s.key]!.at(-1)!.toFixed(0)} ms`).join(', ')}\n`);
  }
  return out;
}

/** Kills the only web process `n` times; each time, the time until POST /echo answers again. */
export async function kill9(spec: ServerSpec, n: number, body: string, env: Record<string, string>): Promise<{ ms: number[]; leaked: number[] }> {
  const r: Running = await startServer(spec, env);
  const ms: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const web = r.pids.find((p) => p.role === 'web')!;
      const victim = web.pid;
      const replaced = new Promise<void>((resolve) => (r.onStarted = (e) => e.pid !== victim && resolve()));
      const t0 = performance.now();
      process.kill(victim, 'SIGKILL');
      await pollUntil(`${r.url}/echo`, 'POST', body, echoed(body), 30_000, 1);
      ms.push(performance.now() - t0);
      // The next victim is the replacement: wait until its pid is known.
      await replaced;
      // A healthy answer from the new process before the next kill.
      await fetchOnce(`${r.url}/echo`, 'POST', body);
    }
  } finally {
    r.onStarted = undefined;
  }
  return { ms, leaked: await stopServer(r) };
}
