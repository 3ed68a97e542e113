/** Runs a main script as a real process (node + tsx, as a user would) and reads its JSON-line output. */
import { fileURLToPath } from 'node:url';
import { spawnScript, type Spawned } from '../proc.js';

export { ROOT } from '../proc.js';
export const MAIN = fileURLToPath(new URL('./fixtures/main.ts', import.meta.url));

export interface MainProcess extends Spawned {
  /** JSON lines printed so far. */
  events(): Record<string, any>[];
  /** Waits for the first event `name` matching `where`. */
  event(name: string, where?: (e: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
}

export function startMain(env: Record<string, string> = {}): MainProcess {
  const p = spawnScript(MAIN, [], env, 'pipe');
  const events = (): Record<string, any>[] =>
    p.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"event"'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  return Object.assign(p, {
    events,
    event: (name: string, where: (e: Record<string, any>) => boolean = () => true, ms = 20_000) =>
      p.until(() => events().find((e) => e.event === name && where(e)), `event ${name}`, ms),
  });
}
