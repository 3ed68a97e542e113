/**
 * appinfra: HTTP APIs whose web server runs in its own process(es), the engine in the main
 * one. The seed's names (ServerBuilder, Server, IPCChannel, the config classes,
 * ServerPlugin) and what a program needs besides: the engine and its queues, the errors,
 * the engine request's type, AppBuilder. Route modules import `appinfra/web` instead.
 */
export { ServerBuilder, RouteConfigurer, SubprocessConfigurer, UvicornConfigurer } from './server/builder/index.js';
export type { RouteOptions, ForwardOptions, RouterOptions, CorsOptions, WebSocketOptions, GraphQLOptions } from './server/builder/index.js';
export { Server, type BoundAddress, type ServerEvents, type ExitInfo } from './runtime/index.js';
export { ApiConfig, UvicornConfig, IPCConfig, loadConfigFile, configFromObject } from './server/config/index.js';
export type { ApiConfigInit, UvicornConfigInit, IPCConfigInit, LoadedConfig } from './server/config/index.js';
export { IPCChannel, type SubmitOptions, type ChannelStats } from './channel/index.js';
export { Engine, Queue, type EngineContext, type EngineHandler, type GetOptions } from './engine/index.js';
export type { BatchHandler, BatchOptions, StepHandler, StepOutput, LimitOptions, HandlerStats, QueueOptions, QueueOrder } from './engine/index.js';
export type { ForwardRequest } from './contract/request.js';
export type { RouteSchema, HttpMethod } from './contract/web-spec.js';
export type { ReplyMode } from './contract/protocols.js';
export {
  AppinfraError,
  ConfigError,
  BuildError,
  StateError,
  ListenError,
  OverloadedError,
  ResponseTimeoutError,
  ChannelClosedError,
  ClientGoneError,
  EngineError,
  EncodeError,
  QueueEmptyError,
  QueueClosedError,
  CallbackError,
} from './errors/index.js';
export { AppBuilder, App, ToolsConfigurer, Plugin, EXIT, LOG_LEVELS } from './app/index.js';
export type { AppIO, Tool, ToolContext, ToolOption, ToolArgument, ToolResult, CmdOptions, HandledSignal, Logger, LogLevel } from './app/index.js';
export { ServerPlugin, type ServerPluginOptions } from './server/plugin.js';
export { TokenBuckets, type RateLimitStore, type BucketRule, type TakeResult } from './ingress/buckets.js';
export type { CallbackInput } from './server/builder/server.js';
export type { LifecycleContext } from './runtime/web/lifecycle.js';
// Process groups and the signed tcp_local transport (issue 9).
export type { GroupOptions, ExecutionIpcOptions } from './server/config/groups.js';
export type { GroupStatus, GroupProcessStatus } from './contract/groups.js';
export { Signer, Verifier, generateSecret, loadSecret, type RefusalReason, type VerifyResult } from './ipc/signing.js';
// Observability: boundary events (node:diagnostics_channel names and message shapes are public API).
export {
  CHANNEL_NAMES,
  REQUEST_TRACING,
  type IngressMessage,
  type RejectedMessage,
  type HandoffMessage,
  type EgressMessage,
  type DispatchMessage,
  type LinkMessage,
  type RequestTraceContext,
  type RequestRef,
} from './observability/diagnostics.js';
export type { EngineObserver } from './engine/engine.js';
// The Redis backbone (issue 10): roles, and the links for programs that wire a channel and an engine themselves.
export { RedisWebLink, RedisWorkerLink, type RedisBackboneOptions, type WebBackboneStats, type WorkerBackboneStats } from './ipc/transports/redis/index.js';
export type { Role, BackboneSpec } from './runtime/main/backbone.js';
export type { RedisOptions } from './server/builder/subprocess.js';
