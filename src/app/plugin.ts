import type { App } from './app.js';
import type { AppBuilder } from './builder.js';

/**
 * Extends an app (seed `Plugin`). `configure` runs once at `build()` and may add tools;
 * `initialize` runs before the chosen tool, in registration order; `cleanup` runs after
 * it, in reverse order, also when the app is stopped by SIGINT or SIGTERM. Only plugins
 * whose `initialize` completed are cleaned up.
 */
export abstract class Plugin {
  /** Shown in error messages; the class name unless overridden. */
  get name(): string {
    return this.constructor.name;
  }

  configure(_builder: AppBuilder): void {}

  initialize(_app: App): void | Promise<void> {}

  cleanup(_app: App): void | Promise<void> {}
}
