/** appinfra: HTTP APIs whose web server runs in its own process(es), the engine in the main one. */
export { ServerBuilder, RouteConfigurer, SubprocessConfigurer, UvicornConfigurer } from './server/builder/index.js';
export type { RouteOptions, ForwardOptions, RouterOptions, CorsOptions, WebSocketOptions, GraphQLOptions } from './server/builder/index.js';
export { Server, SubprocessManager, replySse, type SseOptions, type BoundAddress, type ForwardRequest, type ExitInfo, type ServerEvents } from './server/runtime/index.js';
export { ApiConfig, UvicornConfig, IPCConfig, loadConfigFile, configFromObject } from './server/config/index.js';
export type { ApiConfigInit, UvicornConfigInit, IPCConfigInit, LoadedConfig } from './server/config/index.js';
export { IPCChannel, type SubmitOptions, type ChannelStats, type ChannelEvent } from './channel/index.js';
export { Engine, Queue, type EngineContext, type EngineHandler, type GetOptions } from './engine/index.js';
export { codecByName, jsonCodec, msgpackCodec, v8Codec, type Codec, type Envelope, type Port } from './ipc/index.js';
export type { ForwardRoute, RouteModule, RouteSchema, ReplyMode, HttpMethod, GraphQLSpec } from './server/routes.js';
export {
  AppinfraError,
  ConfigError,
  BuildError,
  StateError,
  OverloadedError,
  ResponseTimeoutError,
  ChannelClosedError,
  ClientGoneError,
  EngineError,
  QueueEmptyError,
  QueueClosedError,
} from './errors.js';
export { AppBuilder, App, ToolsConfigurer, Plugin, EXIT, LOG_LEVELS } from './app/index.js';
export type { AppIO, Tool, ToolContext, ToolOption, ToolArgument, ToolResult, CmdOptions, HandledSignal, Logger, LogLevel } from './app/index.js';
export { ServerPlugin, type ServerPluginOptions } from './server/plugin.js';
