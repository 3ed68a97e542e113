/**
 * What example 4's two processes say to each other (the seed's `InternalRequest` and
 * replies). Types only: both sides import them with `import type`, so importing this
 * file runs nothing in either process.
 */

/** The web process's request to the engine (the seed's `InternalRequest(id=uuid4(), data=..., stream=...)`). */
export interface InternalRequest {
  id: string;
  data: string;
  stream: boolean;
}

/** The engine's answer to a non-streaming request. */
export interface InternalResponse {
  id: string;
  status: 'ok' | 'error';
  result?: string;
  tokens?: number;
  error?: string;
}

/** One chunk of a streamed answer; the last one has `isFinal: true`. */
export interface TokenChunk {
  id: string;
  index: number;
  token: string;
  isFinal: boolean;
}
