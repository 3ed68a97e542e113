// The CPU-bound handler of the process-group bench: chained SHA-256 rounds, a fixed amount
// of work per request (BENCH_BURN_ROUNDS, default 20000).
import { createHash } from 'node:crypto';

const ROUNDS = Number(process.env.BENCH_BURN_ROUNDS ?? 20000);

export function burn() {
  let h = Buffer.from('bench');
  for (let i = 0; i < ROUNDS; i++) h = createHash('sha256').update(h).digest();
  return { digest: h.toString('hex').slice(0, 16) };
}
