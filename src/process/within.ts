/**
 * Resolves true when `p` settles within `ms`, false when the time runs out first. The one
 * "race a promise against a timer" of the framework (drains, child exits, socket closes):
 * the timer never outlives the race, and a rejection counts as settled.
 */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms), false);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
