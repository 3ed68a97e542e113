/**
 * `instanceof` by a class's mark rather than by its object, for the few classes whose
 * instances cross between copies of one module inside a process. A built web process runs
 * its own code from one bundled file, while what it loads later (a route module through
 * `appinfra/web`, the Redis link, GraphQL) imports the package's files themselves: the
 * process then holds two copies of `OverloadedError` or `RawForward`, and an error made by
 * one must still be an `OverloadedError` to the other.
 *
 * Each marked class's prototype carries the names of the marked classes it descends from
 * (itself included), so the check is one property read: `RawForward` is checked for every
 * envelope a link frames, and a plain payload misses at once. A subclass without a mark of
 * its own (a user's `class MyError extends EngineError`) keeps the ordinary check, so it is
 * not mistaken for its parent.
 */
const MARKS = Symbol.for('appinfra.classMarks');

type Marked = { [MARKS]?: readonly string[] };
type AnyClass = abstract new (...args: never[]) => unknown;

/** Gives each class its key as its mark: `markClasses({ RawForward })`. Parents before children. */
export function markClasses(classes: Record<string, AnyClass>): void {
  for (const [name, cls] of Object.entries(classes)) {
    const inherited = (Object.getPrototypeOf(cls.prototype) as Marked | null)?.[MARKS] ?? [];
    Object.defineProperty(cls.prototype, MARKS, { value: [name, ...inherited] });
  }
}

/** The body of a marked class's `static [Symbol.hasInstance]`. */
export function isInstance(cls: AnyClass, value: unknown): boolean {
  const proto = cls.prototype as Marked;
  if (!Object.hasOwn(proto, MARKS)) return Function.prototype[Symbol.hasInstance].call(cls, value);
  return (typeof value === 'object' && value !== null && (value as Marked)[MARKS]?.includes(proto[MARKS]![0]!)) === true;
}
