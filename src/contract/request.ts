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
