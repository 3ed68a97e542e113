import { isInstance, markClasses } from './same-class.js';

/**
 * What an engine handler receives for a forward route: the HTTP request as plain data.
 * Every protocol adapter builds this shape, so one engine handler serves HTTP JSON, SSE,
 * WebSocket and GraphQL: `body` carries the input (the JSON body, a WebSocket frame's
 * `data`, a GraphQL field's arguments). `Body` is the type the route's schema guarantees,
 * e.g. `ForwardRequest<Static<typeof Schema>>`.
 */
export interface ForwardRequest<Body = unknown> {
  id: string;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: Body;
}

/**
 * A forward request whose JSON body is still the text the client sent: the web process
 * did not parse it, and the engine parses and checks it as Fastify would have (one value,
 * no `__proto__` or `constructor.prototype` keys; otherwise 400). Only for a route without
 * a body schema, over a transport that carries bytes: the body is parsed once, on the side
 * with the handler, instead of parsed in the web process and written out again.
 */
export class RawForward {
  constructor(
    readonly head: Omit<ForwardRequest, 'body'>,
    readonly body: string,
  ) {}

  get id(): string {
    return this.head.id;
  }

  /** A web process's Redis link (a module of its own) writes the bundle's `RawForward`s: see same-class.ts. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

markClasses({ RawForward });
