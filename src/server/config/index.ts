export { ApiConfig, type ApiConfigInit } from './api.js';
export { UvicornConfig, type UvicornConfigInit } from './uvicorn.js';
export { IPCConfig, type IPCConfigInit } from './ipc.js';
export { loadConfigFile, configFromObject, parseYamlText, type LoadedConfig } from './load.js';
export type { ApiConfigData, UvicornConfigData, IPCConfigData } from './schemas.js';
