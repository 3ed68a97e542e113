import type { ApiConfig } from './api.js';
import type { IPCConfig } from './ipc.js';

/** The schemas' default for both fields: a field still at it was not set. */
const DEFAULT_RESPONSE_TIMEOUT = 60;

/**
 * One deadline: `api.responseTimeout` (the seed's field) is how long the engine has to
 * answer, for forward routes and for `ipc.submit` in route modules alike.
 * `ipc.responseTimeout` is an alias kept for compatibility: set alone, it sets the
 * deadline; set to another value than `api.responseTimeout`, it is a problem. Afterwards
 * both hold the same value. Returns the problem, if any.
 */
export function unifyResponseTimeout(api: ApiConfig, ipc: IPCConfig): string | undefined {
  const apiSet = api.responseTimeout !== DEFAULT_RESPONSE_TIMEOUT;
  const ipcSet = ipc.responseTimeout !== DEFAULT_RESPONSE_TIMEOUT;
  if (apiSet && ipcSet && api.responseTimeout !== ipc.responseTimeout) {
    return `ipc.responseTimeout: got ${ipc.responseTimeout}, expected the same as api.responseTimeout (${api.responseTimeout}) or nothing: both name the one deadline of an engine request; set api.responseTimeout (withTimeout) only`;
  }
  if (ipcSet && !apiSet) api.responseTimeout = ipc.responseTimeout;
  else ipc.responseTimeout = api.responseTimeout;
  return undefined;
}
