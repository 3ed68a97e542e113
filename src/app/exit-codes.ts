/** Exit codes an App resolves to; the signal ones follow the shell's 128 + signal number. */
export const EXIT = {
  OK: 0,
  /** A tool or a plugin failed. */
  ERROR: 1,
  /** The command line was wrong (unknown tool, missing argument, bad option value). */
  USAGE: 2,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export type HandledSignal = 'SIGINT' | 'SIGTERM';

export function exitCodeOf(signal: HandledSignal): number {
  return signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
}
