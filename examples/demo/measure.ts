/**
 * Shows what the process split buys: while the engine computes a long completion, how
 * fast does `/_health` answer? The server runs in its own process (so this process is a
 * free client), once in subprocess mode and once in direct mode.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import type { ToolContext } from '../../src/index.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Row {
  mode: string;
  idleP50: number;
  busyProbes: number;
  busyP50: number;
  busyP99: number;
  busyMax: number;
  completionMs: number;
  tokens: number;
}

export async function measure(ctx: ToolContext): Promise<number> {
  const tokens = ctx.options.tokens as number;
  const interval = ctx.options.interval as number;
  const rows: Row[] = [];
  for (const mode of ['subprocess', 'direct']) {
    if (ctx.signal.aborted) break;
    rows.push(await measureMode(mode, tokens, interval, ctx));
  }
  const f = (ms: number): string => `${ms.toFixed(1)} ms`;
  ctx.print(`\n/_health latency while one ${tokens}-token completion runs in the engine (one probe every ${interval} ms):\n`);
  ctx.print('| mode | /_health idle p50 | probes during completion | p50 | p99 | max | completion |');
  ctx.print('|---|---|---|---|---|---|---|');
  for (const r of rows) ctx.print(`| ${r.mode} | ${f(r.idleP50)} | ${r.busyProbes} | ${f(r.busyP50)} | ${f(r.busyP99)} | ${f(r.busyMax)} | ${f(r.completionMs)} (${r.tokens} tokens) |`);
  return 0;
}

async function measureMode(mode: string, maxTokens: number, interval: number, ctx: ToolContext): Promise<Row> {
  const child = spawn(process.execPath, [...process.execArgv, MAIN, 'serve', '--port', '0'], {
    env: { ...process.env, DEMO_MODE: mode },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`demo server exited (${code}) before listening`)));
    });
    ctx.log.info(`${mode}: ${url}`);
    const post = (body: unknown): Promise<{ usage: { completion_tokens: number } }> =>
      fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as never);
    const health = async (): Promise<number> => {
      const t = performance.now();
      const r = await fetch(`${url}/_health`);
      await r.arrayBuffer();
      return performance.now() - t;
    };
    await post({ prompt: 'The keeper', max_tokens: 4 });
    const idle: number[] = [];
    for (let i = 0; i < 30; i++) idle.push(await health());

    const started = performance.now();
    let finished = 0;
    const long = post({ prompt: 'The keeper', max_tokens: maxTokens, temperature: 0.7, seed: 1, ignore_eos: true }).then((r) => {
      finished = performance.now();
      return r;
    });
    const busy: number[] = [];
    // Give the request a head start so the engine is surely computing when probing begins.
    await new Promise((r) => setTimeout(r, 50));
    while (!finished) {
      busy.push(await health());
      await new Promise((r) => setTimeout(r, interval));
    }
    const result = await long;
    return {
      mode,
      idleP50: quantile(idle, 0.5),
      busyProbes: busy.length,
      busyP50: quantile(busy, 0.5),
      busyP99: quantile(busy, 0.99),
      busyMax: Math.max(...busy),
      completionMs: finished - started,
      tokens: result.usage.completion_tokens,
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? NaN;
}
