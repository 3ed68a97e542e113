/**
 * `instanceof` by a class's mark rather than by its object, for the few classes whose
 * instances cross between copies of one module inside a process. A built web process runs
 * its own code from one bundled file, while what it loads later (a route module through
 * `appinfra/web`, the Redis link, GraphQL) imports the package's files themselves: the
 * process then holds two copies of `OverloadedError` or `RawForward`, and an error made by
 * one must still be an `OverloadedError` to the other.
 *
 * A marked class's `instanceof` holds for any value with a class of the same mark on its
 * prototype chain, whichever copy made it. A subclass without a mark of its own (a user's
 * `class MyError extends EngineError`) keeps the ordinary check, so it is not mistaken for
 * its parent.
 */
const MARK = Symbol.for('appinfra.classMark');

type Marked = { [MARK]?: string };

/** Gives each class its key as its mark: `markClasses({ RawForward })`. */
export function markClasses(classes: Record<string, abstract new (...args: never[]) => unknown>): void {
  for (const [name, cls] of Object.entries(classes)) Object.defineProperty(cls, MARK, { value: name });
}

/** The body of a marked class's `static [Symbol.hasInstance]`. */
export function isInstance(cls: object, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true;
  if (typeof value !== 'object' || value === null || !Object.hasOwn(cls, MARK)) return false;
  const mark = (cls as Marked)[MARK];
  for (let proto: unknown = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const ctor = Object.hasOwn(proto as object, 'constructor') ? (proto as { constructor: unknown }).constructor : undefined;
    if (typeof ctor === 'function' && Object.hasOwn(ctor, MARK) && (ctor as Marked)[MARK] === mark) return true;
  }
  return false;
}
