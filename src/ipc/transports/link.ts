import type { Envelope } from '../../contract/envelope.js';

/**
 * One side of a bidirectional, ordered envelope link. Transports differ only in how
 * envelopes travel; everything above them (channel, engine) sees this interface.
 */
export interface Link {
  readonly name: string;
  /** Which transport this is (`memory`, `pipe`, ...): observability's handoff events name it. */
  readonly transport?: string;
  /**
   * True when envelopes are encoded to bytes on the way: a request may then carry its
   * client's JSON body unparsed (`RawForward`), to be parsed on the engine's side.
   */
  readonly carriesBytes?: boolean;
  /**
   * Queues an envelope; delivery is in order. A closed link drops it silently. Throws
   * `EncodeError`, before anything is queued, when the codec cannot encode the envelope:
   * the link is untouched and the caller fails only the request that carried the value.
   */
  send(envelope: Envelope): void;
  /** Sets the single receiver of incoming envelopes. */
  onMessage(handler: (envelope: Envelope) => void): void;
  /** Adds a listener called once when the link is gone (peer exited, socket closed, close() called). */
  onClose(handler: (reason: string) => void): void;
  readonly isOpen: boolean;
  /** True while the underlying writer reports backpressure. */
  readonly congested: boolean;
  close(): void;
}
