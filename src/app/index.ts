export { AppBuilder, type AppIO } from './builder.js';
export { App } from './app.js';
export { ToolsConfigurer } from './tools.js';
export { Plugin } from './plugin.js';
export type { Tool, ToolContext, ToolOption, ToolArgument, ToolResult, CmdOptions } from './tool.js';
export { EXIT, type HandledSignal } from './exit-codes.js';
export { LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
