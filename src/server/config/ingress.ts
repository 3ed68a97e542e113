/**
 * Ingress policy settings (`api.rate_limit`, `api.auth`, `api.max_payload_bytes`): plain
 * data, checked here, enforced by the web side (runtime/web/adapters/policy.ts).
 */
import { z } from 'zod';
import { rateProblem } from '../../ingress/rate.js';

/** Paths no limit applies to unless told otherwise: health, and the metrics/status pages. */
export const DEFAULT_RATE_EXEMPT = ['/_health', '/metrics', '/_status'];
/** Paths that answer without credentials unless told otherwise (a load balancer's probe has none). */
export const DEFAULT_AUTH_EXEMPT = ['/_health'];
/** Fastify's own default body limit, stated: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

const KEY_FORMS = 'ip, global, or header:<name> (e.g. header:x-api-key)';
const path = z.string({ error: 'a URL path starting with "/"' }).regex(/^\//, { error: 'a URL path starting with "/"' });

export const rateString = z.string({ error: 'a rate string such as "60/min"' }).superRefine((v, ctx) => {
  const problem = rateProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** One limit: a rate, an optional burst on top, and what a client is. */
export const rateRuleSchema = z.strictObject({
  rate: rateString,
  burst: z.number({ error: 'an integer >= 0 (extra requests allowed at once)' }).int({ error: 'an integer >= 0 (extra requests allowed at once)' }).min(0, { error: 'an integer >= 0 (extra requests allowed at once)' }).default(0),
  key: z.string({ error: KEY_FORMS }).regex(/^(ip|global|header:[A-Za-z0-9_-]+)$/, { error: KEY_FORMS }).default('ip'),
}, { error: 'a mapping with rate: and optionally burst:, key:' });

export const rateLimitSchema = rateRuleSchema.extend({
  exempt: z.array(path, { error: 'a list of paths' }).default(DEFAULT_RATE_EXEMPT),
});

export const authSchema = z
  .strictObject({
    /** A file with one key per line: `<key> [scope ...]`; `#` starts a comment. */
    file: z.string({ error: 'a path to a keys file' }).min(1).optional(),
    /** The name of an environment variable holding keys in the file's format (lines, or `;` between keys). */
    env: z.string({ error: 'an environment variable name' }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name' }).optional(),
    /** `authorization` (default: `Bearer <key>`) or the name of a header that carries the key itself. */
    header: z.string({ error: 'a header name' }).regex(/^[A-Za-z0-9_-]+$/, { error: 'a header name' }).default('authorization'),
    exempt: z.array(path, { error: 'a list of paths' }).default(DEFAULT_AUTH_EXEMPT),
    /** A module URL whose default export `(request, principal) => boolean` runs after the key check. */
    check: z.string({ error: 'a module URL or path' }).min(1).optional(),
  }, { error: 'a mapping with file: or env: (where the keys are), and optionally header:, exempt:, check:' })
  .refine((a) => a.file !== undefined || a.env !== undefined, { error: 'file: or env: (where the keys are); keys never come from the command line' });

export const maxPayloadBytes = z.number({ error: 'a positive integer number of bytes' }).int({ error: 'a positive integer number of bytes' }).positive({ error: 'a positive integer number of bytes' });

export type RateRuleData = z.output<typeof rateRuleSchema>;
export type RateLimitData = z.output<typeof rateLimitSchema>;
export type AuthData = z.output<typeof authSchema>;

/** What a route may say about the policies: its own limit or none, its own body limit, no auth or scopes. */
export interface RoutePolicy {
  rateLimit?: RateRuleData | false;
  maxPayloadBytes?: number;
  auth?: false | { scopes: string[] };
}
