import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/index.js';
import { appFileFromObject } from '../../src/server/cli/app-file.js';

/** An app file that is not on disk, beside examples/config's engine module. */
export const SOURCE = fileURLToPath(new URL('../../examples/config/virtual.yaml', import.meta.url));

/** The problems `appinfra check` lists for an app file that must be refused. */
export function problems(doc: Record<string, unknown>): string[] {
  try {
    appFileFromObject(doc, SOURCE);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return (err.details as { problems: string[] }).problems;
  }
  assert.fail('expected the file to be refused');
}
