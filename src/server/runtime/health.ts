import type { IPCChannel } from '../../channel/channel.js';
import type { SupervisorStatus } from './web/protocol.js';

export interface HealthInput {
  mode: 'direct' | 'subprocess';
  channel: IPCChannel;
  codec: string;
  supervisor: SupervisorStatus;
  reporting: boolean;
}

export interface HealthAnswer {
  status: number;
  body: Record<string, unknown>;
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
  const degraded = h.supervisor.failed || h.supervisor.workers < h.supervisor.configured;
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
    addSupervisor(body, h.supervisor);
    if (!connected) body.reason = 'engine link down';
    else if (full) body.reason = 'max pending reached';
    else if (h.supervisor.failed) body.reason = 'a web process crashed and its restarts are used up';
  }
  return { status: ok ? 200 : 503, body };
}

/**
 * `/_health` when no web process is left and none will be restarted: the main process
 * answers on the port itself (see `FallbackResponder`), always 503.
 */
export function failedHealth(h: { supervisor: SupervisorStatus; pending: number; maxPending: number; codec: string; reporting: boolean }): HealthAnswer {
  const body: Record<string, unknown> = { status: 'unavailable' };
  if (h.reporting) {
    body.mode = 'subprocess';
    body.pid = process.pid;
    // `pending` here is the engine's table: requests it still works on for no one.
    body.ipc = { connected: false, pending: h.pending, maxPending: h.maxPending, codec: h.codec };
    addSupervisor(body, h.supervisor);
    body.reason = 'no web process is running: restarts are used up (see the server log)';
  }
  return { status: 503, body };
}

function addSupervisor(body: Record<string, unknown>, s: SupervisorStatus): void {
  body.restarts = s.restarts;
  body.workers = s.workers;
  body.workersConfigured = s.configured;
  if (s.failed) body.failed = true;
}
