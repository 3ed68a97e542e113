import type { IPCChannel } from '../../channel/channel.js';
import type { SupervisorStatus } from './web/protocol.js';

export interface HealthInput {
  mode: 'direct' | 'subprocess';
  channel: IPCChannel;
  codec: string;
  supervisor: SupervisorStatus;
  reporting: boolean;
}

/**
 * `/_health` (seed question 2): 200 when this process can take work, 503 when it cannot
 * (engine link down, supervisor gave up, admission full). With health reporting off it
 * still answers the status, without the details.
 */
export function webHealth(h: HealthInput): { status: number; body: Record<string, unknown> } {
  const connected = h.channel.isConnected;
  const full = h.channel.pendingCount >= h.channel.maxPending;
  const ok = connected && !h.supervisor.failed && !full;
  const body: Record<string, unknown> = { status: ok ? 'ok' : 'unavailable' };
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
    body.restarts = h.supervisor.restarts;
    body.workers = h.supervisor.workers;
    if (h.supervisor.failed) body.reason = 'web process restarts exhausted';
    else if (!connected) body.reason = 'engine link down';
    else if (full) body.reason = 'max pending reached';
  }
  return { status: ok ? 200 : 503, body };
}
