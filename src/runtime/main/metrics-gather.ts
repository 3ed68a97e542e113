import type { MetricsJson } from '../../contract/control.js';
import type { SubprocessManager } from './subprocess.js';

/** How long a web process may take to send its figures; a busy or dying one is left out of that scrape. */
const COLLECT_TIMEOUT_MS = 1000;

interface Asked {
  resolve: (m: MetricsJson | undefined) => void;
  timer: NodeJS.Timeout;
}

/**
 * The main process's side of one scrape over the control channel: it asks every web
 * process for its figures (`collect`), adds the engine's, and hands the lot to the web
 * process that serves `/metrics` or `/_status` (`scraped`), which aggregates them with
 * prom-client. Owns the timer of each question; `close()` answers them all.
 */
export class MetricsGather {
  private seq = 0;
  private readonly asked = new Map<number, Asked>();

  constructor(private readonly local: () => Promise<MetricsJson>) {}

  async gather(managers: SubprocessManager[]): Promise<MetricsJson[]> {
    const parts = await Promise.all([this.local(), ...managers.map((m) => this.ask(m))]);
    return parts.filter((p): p is MetricsJson => p !== undefined);
  }

  /** A `metrics` answer from a web process. */
  received(id: number, metrics: MetricsJson): void {
    const a = this.asked.get(id);
    if (!a) return;
    this.asked.delete(id);
    clearTimeout(a.timer);
    a.resolve(metrics);
  }

  close(): void {
    for (const a of this.asked.values()) {
      clearTimeout(a.timer);
      a.resolve(undefined);
    }
    this.asked.clear();
  }

  private ask(m: SubprocessManager): Promise<MetricsJson | undefined> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.asked.delete(id);
        resolve(undefined);
      }, COLLECT_TIMEOUT_MS);
      this.asked.set(id, { resolve, timer });
      m.tell({ type: 'collect', id });
    });
  }
}
