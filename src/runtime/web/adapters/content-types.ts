import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppinfraError, CODES } from '../../../errors/index.js';

/** A request body in a media type the route does not take: 415, whatever the route kind. */
export class UnsupportedMediaTypeError extends AppinfraError {
  constructor(contentType: string | undefined) {
    const what = contentType ? `Content-Type ${contentType.split(';')[0]!.trim()}` : 'A body without a Content-Type';
    super('UNSUPPORTED_MEDIA_TYPE', `${what} is not accepted here; send the body as JSON with Content-Type: application/json`, CODES.UNSUPPORTED_MEDIA_TYPE.status);
  }
}

/** True when the route's body schema wants structured JSON, which a text body cannot be. */
function wantsJson(request: FastifyRequest): boolean {
  const body = (request.routeOptions.schema as { body?: unknown } | undefined)?.body;
  if (typeof body !== 'object' || body === null) return false;
  const { type, properties } = body as { type?: unknown; properties?: unknown };
  if (type === undefined) return properties !== undefined;
  return !(Array.isArray(type) ? type : [type]).includes('string');
}

/**
 * Fastify parses `text/plain` into a string by default, so a text body on a route whose
 * schema wants an object failed validation ("body: must be object", 422) while a
 * form-encoded one was refused as 415. Both are the same mistake, a wrong media type:
 * both are 415 now. Routes without a body schema, or with a string one, still get text.
 */
export function installTextParser(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
    if (wantsJson(request)) done(new UnsupportedMediaTypeError(request.headers['content-type']), undefined);
    else done(null, body);
  });
}
