import { ConfigError } from '../errors/index.js';
import { lazyPackage } from '../process/lazy-package.js';

const yaml = lazyPackage<typeof import('yaml')>('yaml');

/** Parses YAML text; a syntax error names the line and column and shows them, with a caret under the column. */
export function parseYamlText(text: string, source: string): unknown {
  try {
    return yaml().parse(text);
  } catch (err) {
    if (err instanceof yaml().YAMLParseError) {
      const pos = err.linePos?.[0];
      // The parser's first line ends in "at line N, column M:"; the place is said (and shown) here instead.
      const what = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?\s*$/, '');
      const shown = pos ? `\n${excerpt(text, pos.line, pos.col)}` : '';
      throw new ConfigError(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML: ${what}${shown}`);
    }
    throw err;
  }
}

/** The line before `line` for context, `line` itself, and a caret under `col` (both 1-based). */
export function excerpt(text: string, line: number, col: number): string {
  const lines = text.split(/\r?\n/);
  const width = String(line).length;
  const row = (n: number): string => `  ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`.trimEnd();
  const at = lines[line - 1] ?? '';
  // Tabs stay tabs in the padding so the caret lines up however the terminal expands them.
  const pad = at.slice(0, col - 1).replace(/[^\t]/g, ' ') + ' '.repeat(Math.max(0, col - 1 - at.length));
  const out = line > 1 ? [row(line - 1)] : [];
  out.push(line > lines.length || (at === '' && line === lines.length) ? `  ${String(line).padStart(width)} | (end of file)` : row(line));
  out.push(`  ${' '.repeat(width)} | ${pad}^`);
  return out.join('\n');
}
