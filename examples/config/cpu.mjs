// The cpu_sync group's module (groups.yaml): imported by the group's processes, never by
// the main or the web process. The same functions would work unchanged in engine.mjs.
import { createHash } from 'node:crypto';
import process from 'node:process';

/** CPU-bound: chained SHA-256 rounds. */
export function digest(req) {
  let h = Buffer.from('appinfra');
  const rounds = req.body?.rounds ?? 10000;
  for (let i = 0; i < rounds; i++) h = createHash('sha256').update(h).digest();
  return { digest: h.toString('hex'), rounds, pid: process.pid };
}

export function where() {
  return { pid: process.pid };
}
