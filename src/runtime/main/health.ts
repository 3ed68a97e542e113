import { supervisorHealth, type HealthAnswer, type SupervisorStatus } from '../../contract/control.js';

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
    Object.assign(body, supervisorHealth(h.supervisor));
    body.reason = 'no web process is running: restarts are used up (see the server log)';
  }
  return { status: 503, body };
}
