/**
 * The one owner of SIGINT and SIGTERM in the main process. Whoever needs to stop on a
 * signal (the CLI app's run, `Server.start()`) subscribes here instead of adding its own
 * process listeners, so one pair of listeners exists, and only while someone listens:
 * with no subscriber Node's default (exit at once) is back.
 *
 * Every subscriber hears every signal, with how many this process has had since the first
 * subscription: a subscriber decides what a second signal means (the app stops waiting;
 * a server already stopping ignores it, since `npm start` forwards a terminal's Ctrl-C
 * on top of the one the terminal sends).
 */
export type StopSignal = 'SIGINT' | 'SIGTERM';
export type StopSignalHandler = (signal: StopSignal, count: number) => void;

/** Seconds a stop on a signal gives in-flight requests, unless told otherwise. */
export const DEFAULT_STOP_TIMEOUT_S = 5;

const handlers = new Set<StopSignalHandler>();
let count = 0;

function onInt(): void {
  deliver('SIGINT');
}

function onTerm(): void {
  deliver('SIGTERM');
}

function deliver(signal: StopSignal): void {
  count++;
  // A handler may unsubscribe (or subscribe another) while being told.
  for (const h of [...handlers]) h(signal, count);
}

/** Calls `handler` on SIGINT and SIGTERM until the returned function is called. */
export function onStopSignal(handler: StopSignalHandler): () => void {
  if (handlers.size === 0) {
    count = 0;
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  }
  handlers.add(handler);
  return () => {
    if (!handlers.delete(handler) || handlers.size > 0) return;
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
