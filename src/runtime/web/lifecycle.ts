/**
 * Lifecycle callbacks (the original's `with_on_startup`, `with_on_shutdown`,
 * `with_lifespan`, `with_on_request`, `with_on_response`, `with_on_exception`), run by the
 * process that serves HTTP: direct mode's closures, or exports of modules a web process
 * imports (a function cannot cross the process boundary). Startup callbacks run once the
 * app is ready and before it listens, with the IPC channel already up; shutdown callbacks
 * (and lifespans' teardown) run when the app closes at the end of a drain, each bounded.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IPCChannel } from '../../channel/channel.js';
import type { CallbackRef, CallbackStage } from '../../contract/web-spec.js';
import { CallbackError } from '../../errors/index.js';
import { within } from '../../process/within.js';
import type { InlineCallback } from './extras.js';
import { importUserModule } from './adapters/modules.js';

/** What startup, shutdown and lifespan callbacks receive. */
export interface LifecycleContext {
  app: FastifyInstance;
  ipc: IPCChannel;
}

/** `on_exception`: sees the error; sends the reply itself, or returns a body (with `reply.code()` set), or undefined for the default answer. */
export type ExceptionCallback = (error: Error, request: FastifyRequest, reply: FastifyReply) => unknown;

/** Seconds each shutdown callback (and each lifespan's teardown) may take before the stop goes on without it. */
export const SHUTDOWN_CALLBACK_TIMEOUT_S = 5;

interface Loaded {
  stage: CallbackStage;
  name: string;
  fn: (...args: any[]) => unknown;
}

async function load(refs: readonly CallbackRef[], inline: readonly InlineCallback[]): Promise<Loaded[]> {
  const out: Loaded[] = inline.map((c, i) => ({ stage: c.stage, fn: c.fn, name: c.fn.name || `${c.stage}#${i + 1}` }));
  for (const ref of refs) {
    const name = `${ref.name === 'default' ? 'default export' : ref.name} of ${ref.module}`;
    const mod = await importUserModule(ref.module, (err) => new CallbackError(ref.stage, name, err));
    const fn = mod[ref.name];
    if (typeof fn !== 'function') throw new CallbackError(ref.stage, name, new Error(`the module has no function export "${ref.name}"`));
    out.push({ stage: ref.stage, fn: fn as Loaded['fn'], name: fn.name && ref.name !== 'default' ? ref.name : name });
  }
  return out;
}

export interface Lifecycle {
  /** Runs startup callbacks and lifespans' setup in order; the first failure stops the start (CallbackError). */
  start(): Promise<void>;
  onException: ExceptionCallback | undefined;
}

/** Loads the callbacks and installs the per-request ones; `start()` is the caller's once the app is ready. */
export async function installLifecycle(app: FastifyInstance, ipc: IPCChannel, refs: readonly CallbackRef[], inline: readonly InlineCallback[]): Promise<Lifecycle> {
  const callbacks = await load(refs, inline);
  const of = (stage: CallbackStage): Loaded[] => callbacks.filter((c) => c.stage === stage);
  for (const c of of('request')) app.addHook('onRequest', async (req, reply) => void (await c.fn(req, reply)));
  for (const c of of('response')) app.addHook('onResponse', async (req, reply) => void (await c.fn(req, reply)));
  const ctx: LifecycleContext = { app, ipc };
  /** Teardowns to run at close, most recent first: lifespans' second halves and cleanup functions. */
  const teardowns: { name: string; run: () => unknown }[] = [];
  app.addHook('onClose', async () => {
    const steps = [...teardowns.reverse(), ...of('shutdown').map((c) => ({ name: c.name, run: () => c.fn(ctx) }))];
    for (const step of steps) {
      // One failing or stuck callback does not keep the others from running, nor the process from stopping.
      const run = Promise.resolve()
        .then(step.run)
        .catch((err: unknown) => app.log.error({ err: new CallbackError('shutdown', step.name, err) }, `shutdown callback "${step.name}" failed`));
      if (!(await within(run, SHUTDOWN_CALLBACK_TIMEOUT_S * 1000))) {
        app.log.warn({ callback: step.name }, `shutdown callback "${step.name}" did not finish within ${SHUTDOWN_CALLBACK_TIMEOUT_S}s; stopping without it`);
      }
    }
  });
  const exception = of('exception');
  return {
    onException: exception.length === 0 ? undefined : async (error, request, reply) => {
      for (const c of exception) {
        const shaped = await c.fn(error, request, reply);
        if (reply.sent || shaped !== undefined) return shaped;
      }
      return undefined;
    },
    async start() {
      for (const c of callbacks) {
        if (c.stage !== 'startup' && c.stage !== 'lifespan') continue;
        try {
          const result = await c.fn(ctx);
          if (c.stage === 'lifespan') teardowns.push({ name: c.name, run: await lifespanTeardown(result) });
        } catch (err) {
          throw new CallbackError(c.stage, c.name, err);
        }
      }
    },
  };
}

/**
 * A lifespan is an async generator function (`setup; yield; teardown`, the original's
 * asynccontextmanager) or a function that returns its cleanup function.
 */
async function lifespanTeardown(result: unknown): Promise<() => unknown> {
  if (result && typeof (result as AsyncGenerator).next === 'function' && typeof (result as AsyncGenerator)[Symbol.asyncIterator] === 'function') {
    const gen = result as AsyncGenerator;
    await gen.next();
    return () => gen.next();
  }
  return typeof result === 'function' ? (result as () => unknown) : () => undefined;
}
