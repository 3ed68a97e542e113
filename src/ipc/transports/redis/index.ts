export { RedisWebLink, type WebBackboneStats } from './web-link.js';
export { RedisWorkerLink, type WorkerBackboneStats } from './worker-link.js';
export { BackboneKeys, BACKBONE_DEFAULTS, type RedisBackboneOptions } from './options.js';
export { generateSecret, loadSecret, loadSecretSync } from '../../signing.js';
