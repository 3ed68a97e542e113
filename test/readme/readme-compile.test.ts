import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { fileURLToPath } from 'node:url';
import { configFromObject } from '../../src/index.js';
import { appFileFromObject } from '../../src/server/cli/app-file.js';
import { ROOT } from '../proc.js';
import { blockFile, blockProject, readmeBlocks, tsBlocks } from './blocks.js';

const run = promisify(execFile);
const project = blockProject();
after(() => rmSync(project.dir, { recursive: true, force: true }));

test('every TypeScript block of the README type-checks against the package under strict settings', { timeout: 180000 }, async () => {
  const blocks = tsBlocks(readmeBlocks());
  const whole = blocks.filter((b) => !b.fragment);
  assert.ok(whole.length >= 4, `expected the README's programs, found ${whole.length} unmarked ts blocks`);
  // A fragment escapes the check: keep them rare, so the README stays made of programs.
  assert.ok(blocks.length - whole.length <= 1, 'more than one ts block is marked <!-- fragment -->');
  for (const b of whole) writeFileSync(join(project.dir, blockFile(b)), b.code);
  // A known error: proves the compiler ran over these files with these settings (strict catches it).
  writeFileSync(join(project.dir, 'readme-line-0.ts'), 'export const canary = (x) => x;\n');
  // One compiler run over all blocks: fast, and every error is reported at once.
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const out = await run(process.execPath, [tsc, '-p', project.tsconfig, '--pretty', 'false'], { cwd: ROOT }).then(
    (r) => r.stdout + r.stderr,
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}` || String(err),
  );
  // Errors in src/ belong to the package, not to the README; only the blocks' own are asserted here.
  const canary = /readme-line-0\.ts.*TS7006/;
  assert.match(out, canary, `the compiler did not check the blocks:\n${out}`);
  const readmeErrors = out.split('\n').filter((l) => l.includes('readme-line-') && !canary.test(l));
  // `readme-line-F.ts(R,C)` is README.md line F+R: say so, so the message points at the README.
  const located = readmeErrors.map((l) => l.replace(/^.*[\\/]readme-line-(\d+)\.ts\((\d+),(\d+)\)/, (_m, f: string, r: string, c: string) => `README.md:${Number(f) + Number(r)}:${c}`));
  assert.deepEqual(located, []);
});

test('the README YAML configuration is one the loader accepts', () => {
  const yamls = readmeBlocks().filter((b) => b.lang === 'yaml' || b.lang === 'yml');
  assert.ok(yamls.length >= 1, 'the README shows a YAML configuration');
  // An app file (it names its engine, or has endpoints:) is checked as `appinfra check` reads one, beside the example's engine module.
  for (const b of yamls) {
    const doc = parseYaml(b.code) as Record<string, unknown>;
    const isAppFile = doc && ('engine' in doc || 'endpoints' in doc);
    const check = isAppFile ? () => appFileFromObject(doc, fileURLToPath(new URL('../../examples/config/readme.yaml', import.meta.url))) : () => configFromObject(doc);
    assert.doesNotThrow(check, `README.md block at line ${b.line}`);
  }
});
