import { UvicornConfig, type UvicornConfigInit } from '../config/uvicorn.js';
import type { UvicornConfigData } from '../config/schemas.js';
import type { ServerBuilder } from './server.js';

/**
 * Focused builder for the HTTP server settings (seed `UvicornConfigurer`). Each setter
 * changes one field of the server's current settings and nothing else, so values given
 * earlier through `withConfig` are never reset to defaults.
 */
export class UvicornConfigurer {
  constructor(private readonly parent: ServerBuilder) {}

  private set<K extends keyof UvicornConfigData>(key: K, value: UvicornConfigData[K]): this {
    this.parent._state.api.uvicorn[key] = value as UvicornConfig[K];
    return this;
  }

  withWorkers(workers: number): this {
    return this.set('workers', workers);
  }
  withTimeoutKeepAlive(seconds: number): this {
    return this.set('timeoutKeepAlive', seconds);
  }
  withLimitConcurrency(limit: number | null): this {
    return this.set('limitConcurrency', limit);
  }
  withLimitMaxRequests(limit: number | null): this {
    return this.set('limitMaxRequests', limit);
  }
  withBacklog(backlog: number): this {
    return this.set('backlog', backlog);
  }
  withLogLevel(level: UvicornConfigData['logLevel']): this {
    return this.set('logLevel', level);
  }
  withAccessLog(enabled = true): this {
    return this.set('accessLog', enabled);
  }
  /** Serves HTTPS with this PEM key and certificate. */
  withSsl(keyfile: string, certfile: string): this {
    this.set('sslKeyfile', keyfile);
    return this.set('sslCertfile', certfile);
  }
  /**
   * Serves HTTP/2: h2 over TLS with HTTP/1.1 fallback when `withSsl` is set (WebSocket
   * routes use the fallback), h2c with prior knowledge otherwise (loopback or behind a proxy).
   */
  withHttp2(enabled = true): this {
    return this.set('http2', enabled);
  }
  withConfig(config: UvicornConfig | UvicornConfigInit): this {
    this.parent._state.api.uvicorn = config instanceof UvicornConfig ? new UvicornConfig(config.toJSON()) : new UvicornConfig(config);
    return this;
  }
  done(): ServerBuilder {
    return this.parent;
  }
}
