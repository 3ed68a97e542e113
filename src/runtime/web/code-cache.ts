/**
 * What the bundle loader (bundle-loader.ts) leaves for the web entry: whether V8 took its
 * code cache, and how to write one. Nothing is there when the entry runs unbundled.
 */
import type { CodeCacheState } from '../../contract/control.js';

export const CODE_CACHE = Symbol.for('appinfra.webCodeCache');

interface CodeCache {
  state: CodeCacheState;
  save(): void;
}

export function codeCache(): CodeCache | undefined {
  return (globalThis as Record<symbol, CodeCache | undefined>)[CODE_CACHE];
}
