import { parseWith, normaliseKeys } from './validate.js';
import { uvicornSchema, type UvicornConfigData } from './schemas.js';

export type UvicornConfigInit = Partial<UvicornConfigData>;

/**
 * Settings of the HTTP server process, named as the seed's uvicorn settings (seconds).
 * Node has no uvicorn: these drive Fastify/Node's http server with uvicorn's meaning.
 */
export class UvicornConfig implements UvicornConfigData {
  workers!: number;
  timeoutKeepAlive!: number;
  limitConcurrency!: number | null;
  limitMaxRequests!: number | null;
  backlog!: number;
  logLevel!: UvicornConfigData['logLevel'];
  accessLog!: boolean;
  sslKeyfile!: string | null;
  sslCertfile!: string | null;
  /** HTTP/2: h2 (ALPN, HTTP/1.1 fallback) with sslKeyfile/sslCertfile, h2c without them. */
  http2!: boolean;

  constructor(init: UvicornConfigInit | Record<string, unknown> = {}) {
    const originals = new Map<string, string>();
    const twice: string[] = [];
    Object.assign(this, parseWith(uvicornSchema, normaliseKeys(init, 'uvicorn', originals, twice), 'uvicorn', originals, twice));
  }

  toJSON(): UvicornConfigData {
    return { ...this };
  }
}
