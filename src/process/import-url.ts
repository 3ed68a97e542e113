import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What `import()` takes for a module given as a URL (`file:`, `data:`, a package name) or a file path (relative to the working directory). */
export function importUrl(spec: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return spec;
  if (isAbsolute(spec) || spec.startsWith('.')) return pathToFileURL(resolve(spec)).href;
  return spec;
}
