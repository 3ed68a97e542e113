import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLE = fileURLToPath(new URL('../../examples/config/', import.meta.url));

/**
 * The process-group example (`examples/config/groups.yaml`) on the backbone, written into
 * `dir`: transport redis, modules made absolute (the copy lives elsewhere), the API on
 * 127.0.0.1 with `responseTimeout` seconds. Returns the file's path.
 */
export function groupsOnRedis(dir: string, responseTimeout: number): string {
  const text = readFileSync(join(EXAMPLE, 'groups.yaml'), 'utf8');
  const changed = text
    .replace(/transport: tcp_local\b/, 'transport: redis')
    .replace('module: ./engine.mjs', `module: ${join(EXAMPLE, 'engine.mjs')}`)
    .replace('module: ./cpu.mjs', `module: ${join(EXAMPLE, 'cpu.mjs')}`)
    .concat(`\napi:\n  host: 127.0.0.1\n  response_timeout: ${responseTimeout}\n`);
  assert.match(changed, /transport: redis/);
  const path = join(dir, 'groups.yaml');
  writeFileSync(path, changed);
  return path;
}
