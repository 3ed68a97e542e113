import type { ChildProcess } from 'node:child_process';
import { within } from './within.js';

/**
 * The second half of every child's graceful stop, once it was asked to drain: wait up to
 * `graceMs` for it to exit, then terminate, then kill. Resolves when it has exited.
 */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (await within(exited, graceMs)) return;
  child.kill('SIGTERM');
  if (await within(exited, 1000)) return;
  child.kill('SIGKILL');
  await exited;
}
