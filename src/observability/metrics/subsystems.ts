/**
 * Figures of the main process's subsystems, read at scrape time: process groups (per group
 * and per process), the tcp_local listener (frames accepted, refusals by reason) and the
 * Redis backbone's worker. Each reader may answer nothing (the subsystem is not in use):
 * its series are then absent rather than zero.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GroupStatus } from '../../contract/groups.js';
import type { ListenerStats } from '../../ipc/transports/tcp.js';
import type { WorkerBackboneStats } from '../../ipc/transports/redis/worker-link.js';

export interface SubsystemReaders {
  groups: () => GroupStatus[];
  tcp: () => ListenerStats | undefined;
  backbone: () => WorkerBackboneStats | undefined;
}

const STATES = ['ok', 'degraded', 'failed'] as const;

type Series = [Record<string, string>, number][];

/**
 * A metric whose series are read from the subsystem at scrape time: a Counter for running
 * totals kept elsewhere (`_total`), a Gauge for levels. Either way the old series go first,
 * so a process that left the group leaves the scrape too.
 */
function scraped(kind: typeof Counter | typeof Gauge, registry: Registry, name: string, help: string, labelNames: string[], read: () => Series): void {
  new kind({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter | Gauge) {
      this.reset();
      for (const [labels, v] of read()) {
        if (this instanceof Gauge) this.set(labels, v);
        else this.inc(labels, v);
      }
    },
  });
}
const totals = (registry: Registry, name: string, help: string, labelNames: string[], read: () => Series): void => scraped(Counter, registry, name, help, labelNames, read);
const gauge = (registry: Registry, name: string, help: string, labelNames: string[], read: () => Series): void => scraped(Gauge, registry, name, help, labelNames, read);

export function subsystemMetrics(registry: Registry, read: SubsystemReaders): void {
  const processes = () => read.groups().flatMap((g) => g.processes.map((p) => [{ group: g.name, slot: String(p.slot) }, p] as const));
  gauge(registry, 'appinfra_group_state', 'Process group state: 1 for the state it is in (ok, degraded, failed)', ['group', 'state'], () =>
    read.groups().flatMap((g) => STATES.map((s) => [{ group: g.name, state: s }, g.state === s ? 1 : 0] as Series[number])),
  );
  gauge(registry, 'appinfra_group_pending', 'Requests in flight on a group process', ['group', 'slot'], () => processes().map(([l, p]) => [l, p.pending]));
  gauge(registry, 'appinfra_group_ready', 'Group process ready to take requests (1) or not (0)', ['group', 'slot'], () => processes().map(([l, p]) => [l, p.state === 'ready' ? 1 : 0]));
  totals(registry, 'appinfra_group_served_total', 'Requests a group process answered', ['group', 'slot'], () => processes().map(([l, p]) => [l, p.served]));
  totals(registry, 'appinfra_group_restarts_total', 'Restarts of a process group after crashes', ['group'], () => read.groups().map((g) => [{ group: g.name }, g.restarts]));
  totals(registry, 'appinfra_tcp_local_accepted_total', 'Signed frames accepted by the tcp_local listener', [], () => {
    const s = read.tcp();
    return s ? [[{}, s.accepted]] : [];
  });
  totals(registry, 'appinfra_tcp_local_refused_total', 'Frames the tcp_local listener refused, by reason', ['reason'], () =>
    Object.entries(read.tcp()?.refused ?? {}).map(([reason, n]) => [{ reason }, n]),
  );
  totals(registry, 'appinfra_backbone_requests_total', "Requests this process's backbone worker dealt with, by what happened to them", ['outcome'], () =>
    Object.entries(read.backbone() ?? {}).map(([outcome, n]) => [{ outcome }, n]),
  );
}
