import type { FastifyRequest } from 'fastify';
import { AppinfraError, CODES } from '../../../errors/index.js';
import { publish } from '../../../observability/diagnostics.js';

/** Fastify refused a body over the route's `bodyLimit` (before reading it when Content-Length says so): 413, and a boundary event. */
export function payloadTooLarge(request: FastifyRequest): AppinfraError {
  const limit = request.routeOptions.bodyLimit;
  publish('rejected', () => ({ route: request.routeOptions.url, reason: 'payload_too_large' }));
  return new AppinfraError('PAYLOAD_TOO_LARGE', `${CODES.PAYLOAD_TOO_LARGE.message} (${limit} bytes)`, CODES.PAYLOAD_TOO_LARGE.status);
}
