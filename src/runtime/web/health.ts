import type { IPCChannel } from '../../channel/channel.js';
import { supervisorHealth, type HealthAnswer, type SupervisorStatus } from '../../contract/control.js';

export interface HealthInput {
  mode: 'direct' | 'subprocess';
  channel: IPCChannel;
  codec: string;
  supervisor: SupervisorStatus;
  reporting: boolean;
}

/**
 * `/_health` as a web process answers it (seed question 2): 200 when this process can
 * take work, 503 when it cannot (engine link down, admission full). A server that lost a
 * worker for good still takes work on the others: it says `degraded`, with 200. With
 * health reporting off it still answers the status, without the details.
 */
export function webHealth(h: HealthInput): HealthAnswer {
  const connected = h.channel.isConnected;
  const full = h.channel.pendingCount >= h.channel.maxPending;
  const ok = connected && !full;
  const lostGroup = h.supervisor.groups?.find((g) => g.state !== 'ok');
  const degraded = h.supervisor.failed || h.supervisor.workers < h.supervisor.configured || lostGroup !== undefined;
  const body: Record<string, unknown> = { status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable' };
  if (h.reporting) {
    body.mode = h.mode;
    body.pid = process.pid;
    body.ipc = {
      connected,
      pending: h.channel.pendingCount,
      maxPending: h.channel.maxPending,
      codec: h.codec,
      replyTo: h.channel.replyTo,
      stats: { ...h.channel.stats },
    };
    // Queue wait and batch sizes of the engine's limited and batching handlers.
    if (h.channel.engineHandlers) body.handlers = h.channel.engineHandlers;
    Object.assign(body, supervisorHealth(h.supervisor));
    if (!connected) body.reason = 'engine link down';
    else if (full) body.reason = 'max pending reached';
    else if (h.supervisor.failed) body.reason = 'a web process crashed and its restarts are used up';
    else if (lostGroup) body.reason = `process group "${lostGroup.name}" is ${lostGroup.state === 'failed' ? 'failed: its processes crashed and their restarts are used up' : 'degraded: not every process is ready'}`;
  }
  return { status: ok ? 200 : 503, body };
}
