import type { FastifyRequest } from 'fastify';
import { CODES } from '../../../errors/index.js';
import { PolicyError } from './refusal.js';

/** Fastify refused a body over the route's `bodyLimit` (before reading it when Content-Length says so). */
export function payloadTooLarge(request: FastifyRequest): PolicyError {
  const message = `${CODES.PAYLOAD_TOO_LARGE.message} (${request.routeOptions.bodyLimit} bytes)`;
  return new PolicyError('PAYLOAD_TOO_LARGE', message, 'payload_too_large', request.routeOptions.url);
}
