import type { FromWeb, MetricsJson } from '../../contract/control.js';

/** How long a scrape waits for the main process; past it, this process's figures are served alone. */
const SCRAPE_TIMEOUT_MS = 2000;

interface Waiting {
  resolve: (m: MetricsJson[]) => void;
  timer: NodeJS.Timeout;
}

/**
 * A web process's side of a scrape: asks the main process for every process's figures
 * (`scrape`), and answers its `collect` with this process's. When the main process does
 * not answer in time (its event loop blocked by the engine, the very thing a user wants
 * to see) the scrape is served with this process's figures, never left hanging.
 */
export class ScrapeClient {
  private seq = 0;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly send: (msg: FromWeb) => void,
    private readonly own: () => Promise<MetricsJson>,
  ) {}

  gather = (): Promise<MetricsJson[]> => {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        void this.own().then((m) => resolve([m]));
      }, SCRAPE_TIMEOUT_MS);
      this.waiting.set(id, { resolve, timer });
      this.send({ type: 'scrape', id });
    });
  };

  /** The main process's answer to `scrape`. */
  scraped(id: number, metrics: MetricsJson[]): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve(metrics);
  }

  /** The main process asks for this process's figures. */
  collect(id: number): void {
    void this.own().then((metrics) => this.send({ type: 'metrics', id, metrics }));
  }

  close(): void {
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
  }
}
