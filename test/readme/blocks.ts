/**
 * The README's code blocks, laid out as files a user would write: each ```ts block one
 * module, importing `appinfra` as an installed user would. `appinfra` resolves to this
 * work tree's sources (tsconfig `paths`, honoured by tsc and by tsx through
 * TSX_TSCONFIG_PATH), not to a possibly stale dist/.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../proc.js';

export interface Block {
  lang: string;
  code: string;
  /** 1-based README line of the opening fence, for messages that point at the README. */
  line: number;
  /** Marked `<!-- fragment -->` on the line before the fence: part of a program, not checked alone. */
  fragment: boolean;
}

export const README = join(ROOT, 'README.md');

export function readmeBlocks(text = readFileSync(README, 'utf8')): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const before = lines.slice(0, start).reverse().find((l) => l.trim() !== '') ?? '';
    blocks.push({ lang: open[1]!, code: body.join('\n') + '\n', line: start + 1, fragment: /^<!--\s*fragment\b/.test(before.trim()) });
  }
  return blocks;
}

export const tsBlocks = (blocks: Block[]): Block[] => blocks.filter((b) => b.lang === 'ts' || b.lang === 'typescript');

/** The file name a block is written to: its README line, so a compiler error points at the README. */
export const blockFile = (b: Block): string => `readme-line-${b.line}.ts`;

/**
 * A fresh directory under scratch/ (inside the package, so node_modules resolves; ignored by
 * git, eslint and the project's tsconfig) holding `tsconfig.json` with the project's strict
 * settings and `appinfra` mapped to src/. The caller removes it.
 */
export function blockProject(): { dir: string; tsconfig: string } {
  mkdirSync(join(ROOT, 'scratch'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'scratch', 'readme-'));
  const tsconfig = join(dir, 'tsconfig.json');
  const config = {
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: {
      noEmit: true,
      rootDir: ROOT,
      declaration: false,
      sourceMap: false,
      paths: { appinfra: [join(ROOT, 'src/index.ts')], 'appinfra/web': [join(ROOT, 'src/web.ts')] },
    },
    include: [join(dir, '*.ts')],
  };
  writeFileSync(tsconfig, JSON.stringify(config, null, 2));
  return { dir, tsconfig };
}
