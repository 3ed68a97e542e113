/**
 * What an item put on the response queue means (README, "Queue style"). The seed puts
 * the answer itself (`response_q.put(result)`); the README's form wraps it as
 * `{ id, result }`. Both work, and the client never sees the wrapper:
 *
 * - `{ id, result }`: the client gets `result`.
 * - `{ id, error }`: the request fails with `error` (an `EngineError` keeps its status,
 *   code and message; anything else is a generic 500, logged in the engine).
 * - an `Error` with an `id` property: the same as `{ id, error }`.
 * - `{ id, isFinal: true }`: ends a stream without another chunk.
 * - any other object: the answer itself, sent as put (its `id` included).
 *
 * Each of the wrapped forms may carry `isFinal` (streams: the last chunk). An object is
 * the wrapper only if it has no other keys, so an answer that happens to have a `result`
 * field next to its own fields (`{ id, status, result }`) is sent whole.
 */
export type ResponseItem =
  | { kind: 'data'; payload: unknown; final: boolean }
  | { kind: 'error'; error: unknown }
  | { kind: 'end' };

const WRAPPER_KEYS = new Set(['id', 'result', 'error', 'isFinal']);

export function readResponseItem(item: object): ResponseItem {
  if (item instanceof Error) return { kind: 'error', error: item };
  const fields = item as { result?: unknown; error?: unknown; isFinal?: unknown };
  const final = fields.isFinal === true;
  const keys = Object.keys(item);
  if (!keys.every((k) => WRAPPER_KEYS.has(k))) return { kind: 'data', payload: item, final };
  if (fields.error !== undefined && fields.error !== null) return { kind: 'error', error: fields.error };
  if ('result' in fields) return { kind: 'data', payload: fields.result, final };
  if ('error' in fields) return { kind: 'data', payload: null, final };
  if (final && keys.length === 2) return { kind: 'end' };
  return { kind: 'data', payload: item, final };
}
