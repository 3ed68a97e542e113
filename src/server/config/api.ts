import { parseWith, normaliseKeys } from './validate.js';
import { apiSchema, type ApiConfigData, type UvicornConfigData } from './schemas.js';
import { UvicornConfig, type UvicornConfigInit } from './uvicorn.js';

export type ApiConfigInit = Partial<ApiConfigData> & { uvicorn?: UvicornConfig | UvicornConfigInit };

/**
 * The HTTP API's settings. Defaults are the seed's, except `host`: it binds to
 * 127.0.0.1 unless told otherwise, so nothing is exposed by accident.
 */
export class ApiConfig implements ApiConfigData {
  host!: string;
  port!: number;
  title!: string;
  description!: string;
  version!: string;
  responseTimeout!: number;
  logFile!: string | null;
  autoRestart!: boolean;
  restartDelay!: number;
  maxRestarts!: number;
  uvicorn!: UvicornConfig;
  rateLimit!: ApiConfigData['rateLimit'];
  auth!: ApiConfigData['auth'];
  maxPayloadBytes!: number;
  /** `GET /metrics` (Prometheus text, every process in one scrape); off by default. */
  metrics!: ApiConfigData['metrics'];
  /** The live `/_status` page; off by default. */
  statusPage!: ApiConfigData['statusPage'];
  /** `tracing.setup`: a module each web process imports first, to register an OpenTelemetry SDK. */
  tracing!: ApiConfigData['tracing'];

  constructor(init: ApiConfigInit | Record<string, unknown> = {}) {
    const originals = new Map<string, string>();
    const twice: string[] = [];
    const flat = normaliseKeys(init, 'api', originals, twice) as Record<string, unknown>;
    // An empty `uvicorn:` section in YAML is null: it means the defaults, as an absent one does.
    const uv = flat.uvicorn;
    const input = { ...flat, uvicorn: uv instanceof UvicornConfig ? uv.toJSON() : normaliseKeys(uv ?? undefined, 'api.uvicorn', originals, twice) };
    const parsed = parseWith(apiSchema, input, 'api', originals, twice);
    Object.assign(this, parsed, { uvicorn: new UvicornConfig(parsed.uvicorn as UvicornConfigData) });
  }

  toJSON(): ApiConfigData & { uvicorn: UvicornConfigData } {
    return { ...this, uvicorn: this.uvicorn.toJSON() };
  }
}
