import { z } from 'zod';

/**
 * `runtime.platform.execution_ipc.redis`: where the Redis backbone is and how this app
 * uses it. File paths are relative to the app file. A password goes in the URL or in
 * `password_file`; the signing secret only in `secret_file` (the same file on every machine).
 */
export const redisSectionSchema = z.strictObject({
  url: z.string({ error: 'a redis:// or rediss:// URL' }).regex(/^rediss?:\/\//, { error: 'a redis:// or rediss:// URL' }).default('redis://127.0.0.1:6379'),
  password_file: z.string({ error: 'a path to a file holding the Redis password' }).min(1).optional(),
  secret_file: z.string({ error: 'a path to a file holding the backbone secret (32+ bytes; hex or base64 text, or raw)' }).min(1).optional(),
  prefix: z.string({ error: 'a key prefix' }).regex(/^[A-Za-z0-9:._-]+$/, { error: 'a key prefix (letters, digits, : . _ -)' }).optional(),
  max_length: z.number({ error: 'a positive integer' }).int({ error: 'a positive integer' }).positive({ error: 'a positive integer' }).default(10_000),
  max_in_flight: z.number({ error: 'a positive integer' }).int({ error: 'a positive integer' }).positive({ error: 'a positive integer' }).default(256),
  claim_idle_seconds: z.number({ error: 'a positive number of seconds' }).positive({ error: 'a positive number of seconds' }).default(5),
  idempotent: z.array(z.string({ error: 'a handler name' }), { error: 'a list of handler names' }).default([]),
});

export type RedisSection = z.output<typeof redisSectionSchema>;

export const REDIS_SECTION_DEFAULTS: RedisSection = redisSectionSchema.parse({});

