import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../../channel/channel.js';

/** A JSON body left as the client sent it, for the engine to parse (see `RawForward`). */
export class RawJsonBody {
  constructor(readonly text: string) {}
}

/** The route config key of a forward route that may hand its body on unparsed. */
export const RAW_BODY = 'appinfraRawBody';

/**
 * Fastify's JSON parser, except on forward routes that ask for it (no body schema, no
 * user hook that reads the body): there, over a transport that carries bytes, the body is
 * passed on as its text and the engine parses it, with Fastify's checks and answers. It
 * was parsed here only to be written out again for the engine: about a microsecond of the
 * web process's time per request. An empty body is refused here, as Fastify does.
 */
export function installJsonParser(app: FastifyInstance, channel: IPCChannel): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    // The transport first: Fastify builds `routeOptions` afresh on every read, and in direct mode nothing here needs it.
    if (channel.carriesBytes && text.length > 0 && (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[RAW_BODY] === true) {
      done(null, new RawJsonBody(text));
      return;
    }
    parse(request, text, done);
  });
}
