export { ServerBuilder } from './server.js';
export { RouteConfigurer, type RouteOptions, type ForwardOptions, type RouterOptions, type CorsOptions, type WebSocketOptions, type GraphQLOptions } from './route.js';
export { SubprocessConfigurer } from './subprocess.js';
export { UvicornConfigurer } from './uvicorn.js';
