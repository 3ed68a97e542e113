/**
 * The demo's tokens/s at N concurrent SSE streams with continuous batching vs each
 * completion computing alone, measured in this run by the demo's own `measure` tool
 * (`npm start -- measure --only tokens`): the demo is TypeScript run with tsx, not dist/,
 * because it is the example a user runs, and both sides of the ratio run the same way.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const DEMO = fileURLToPath(new URL('../../examples/demo/main.ts', import.meta.url));

export interface DemoTokens {
  streams: number;
  tokensPerStream: number;
  batchedTokensPerSec: number;
  unbatchedTokensPerSec: number;
  /** batched / unbatched; the aim is >= 4 at 16 streams on 2 cores. */
  gain: number;
}

interface Row {
  streams: number;
  tokensPerSecond: number;
}

export async function demoTokens(streams: number, tokensPerStream: number): Promise<DemoTokens> {
  const args = ['--import', 'tsx', DEMO, 'measure', '--only', 'tokens', '--streams', String(streams), '--stream-tokens', String(tokensPerStream), '--json'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 600_000, killSignal: 'SIGINT' });
  const line = /DEMO_TOKENS (\{.*\})/.exec(stdout);
  if (!line) throw new Error(`the demo's measure printed no DEMO_TOKENS line:\n${stdout}`);
  const r = JSON.parse(line[1]!) as { batched: Row[]; unbatched: Row[] };
  const on = r.batched[0]!.tokensPerSecond;
  const off = r.unbatched[0]!.tokensPerSecond;
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { streams, tokensPerStream, batchedTokensPerSec: round(on), unbatchedTokensPerSec: round(off), gain: Math.round((on / off) * 100) / 100 };
}
