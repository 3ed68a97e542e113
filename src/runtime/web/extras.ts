/**
 * Inline routes, routers, exception handlers and hooks: closures, so they never cross
 * the process boundary and only direct mode (the web side in the main process) runs them.
 */
import type { FastifyPluginAsync, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { CallbackStage, HttpMethod } from '../../contract/web-spec.js';

export type RouteHandler = (request: FastifyRequest<any>, reply: FastifyReply) => unknown;

/** Inline routes, routers and hooks: closures, so direct mode only. */
export interface InlineRoute {
  path: string;
  methods: HttpMethod[];
  handler: RouteHandler;
  options: RouteShorthandOptions & { tags?: string[]; responseModel?: unknown; [key: string]: unknown };
}

export type RouterPlugin = FastifyPluginAsync<any> | FastifyPluginCallback<any>;

export interface InlineRouter {
  plugin: RouterPlugin;
  prefix: string;
  tags?: string[];
}

export interface ExceptionHandlerSpec {
  errorClass: new (...args: any[]) => Error;
  handler: (error: any, request: FastifyRequest, reply: FastifyReply) => unknown;
}

/**
 * Fastify-native middleware: a plugin (registered at the root, unencapsulated) or a
 * hook function for one lifecycle stage.
 */
export type MiddlewareSpec =
  | { kind: 'plugin'; plugin: RouterPlugin; options: Record<string, unknown> }
  | { kind: 'hook'; hook: 'onRequest' | 'preHandler' | 'onSend' | 'onResponse' | 'preValidation' | 'preParsing'; fn: (...args: any[]) => unknown };

/** Closures that only direct mode can use: they live in the process that serves HTTP. */
export interface InProcessExtras {
  inlineRoutes: InlineRoute[];
  routers: InlineRouter[];
  exceptionHandlers: ExceptionHandlerSpec[];
  middleware: MiddlewareSpec[];
  /** Lifecycle callbacks given as functions. */
  callbacks?: InlineCallback[];
}

/** A lifecycle callback given as a function (direct mode). */
export interface InlineCallback {
  stage: CallbackStage;
  fn: (...args: any[]) => unknown;
}
