/**
 * Shows what the demo's design buys, each server in its own process (so this process is
 * a free client):
 * - the process split: while the engine computes a long completion, how fast does
 *   `/_health` answer, in subprocess mode and in direct mode;
 * - continuous batching: tokens/s with 1, 4 and 16 concurrent streams, with batching
 *   and without (each completion computing alone).
 */
import type { ToolContext } from '../../src/index.js';
import { startDemo } from './spawn.js';
import { streamTokens, type Throughput } from './throughput.js';

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
  const only = ctx.options.only as string | undefined;
  if (only !== undefined && only !== 'health' && only !== 'tokens') {
    ctx.print(`--only: got ${JSON.stringify(only)}, expected health or tokens`);
    return 2;
  }
  if (only !== 'tokens') await measureHealth(ctx);
  if (only !== 'health' && !ctx.signal.aborted) await measureTokens(ctx);
  return 0;
}

/** tokens/s at each stream count, batching on and off; `--json` adds one machine-readable line. */
async function measureTokens(ctx: ToolContext): Promise<void> {
  const counts = String(ctx.options.streams).split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--streams: got ${String(ctx.options.streams)}, expected a list of positive integers like 1,4,16`);
  const maxTokens = ctx.options.streamTokens as number;
  const rows: Record<string, Throughput[]> = {};
  for (const batching of ['on', 'off']) {
    const demo = await startDemo({ DEMO_BATCHING: batching });
    try {
      ctx.log.info(`batching ${batching}: ${demo.url}`);
      await streamTokens(demo.url, 2, 4);
      rows[batching] = [];
      for (const n of counts) {
        if (ctx.signal.aborted) break;
        rows[batching].push(await streamTokens(demo.url, n, maxTokens));
      }
    } finally {
      await demo.stop();
    }
  }
  const on = rows.on ?? [];
  const off = rows.off ?? [];
  ctx.print(`\n/v1/completions tokens/s, N concurrent SSE streams of ${maxTokens} tokens each (subprocess mode):\n`);
  ctx.print('| streams | continuous batching | each alone | gain |');
  ctx.print('|---|---|---|---|');
  on.forEach((r, i) => {
    const o = off[i];
    ctx.print(`| ${r.streams} | ${r.tokensPerSecond.toFixed(0)} tokens/s | ${o ? `${o.tokensPerSecond.toFixed(0)} tokens/s` : '-'} | ${o ? `${(r.tokensPerSecond / o.tokensPerSecond).toFixed(2)}x` : '-'} |`);
  });
  if (ctx.options.json) ctx.print(`DEMO_TOKENS ${JSON.stringify({ maxTokens, batched: on, unbatched: off })}`);
}

async function measureHealth(ctx: ToolContext): Promise<void> {
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
}

async function measureMode(mode: string, maxTokens: number, interval: number, ctx: ToolContext): Promise<Row> {
  const demo = await startDemo({ DEMO_MODE: mode, DEMO_BATCHING: 'off' });
  const url = demo.url;
  try {
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
    await demo.stop();
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? NaN;
}
