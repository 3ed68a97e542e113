/** Builds the demo server; main.ts serves it, measure.ts starts two of them side by side. */
import { Queue, ServerBuilder, type Server } from '../../src/index.js';
import { complete, completeStream, completionSteps, embedBatch, type CompletionRequest } from './engine.js';
import { TinyLM, type ModelOptions } from './model.js';

export interface DemoOptions {
  host?: string;
  port?: number;
  /** false = direct mode (HTTP in this process), for comparison only. Default true. */
  subprocess?: boolean;
  model?: ModelOptions;
  /**
   * true (default): /v1/completions on continuous batching, /v1/embeddings on dynamic
   * batching. false: each request computes alone, as before batching (for `measure`).
   */
  batching?: boolean;
}

export function createDemoServer(options: DemoOptions = {}): { server: Server; model: TinyLM } {
  const model = TinyLM.fromFile(new URL('./corpus.txt', import.meta.url), options.model);
  let builder = new ServerBuilder('demo')
    .withHost(options.host ?? '127.0.0.1')
    .withPort(options.port ?? 8000)
    .withTitle('appinfra demo: a CPU-bound completion engine behind a web process')
    .withDescription(`OpenAI-style /v1/completions served by ${model.name} (vocabulary ${model.vocabSize} BPE tokens, ~${(model.flopsPerToken / 1e6).toFixed(1)}M multiply-adds per token).`)
    .withVersion('0.1.0')
    // Prometheus figures of every process, and the live page that draws them (127.0.0.1 only by default).
    .withMetrics()
    .withStatusPage()
    .routes.fromModule(new URL('./routes.ts', import.meta.url))
    .done();
  if (options.subprocess !== false) builder = builder.subprocess.withIpc(new Queue(), new Queue()).done();
  const server = builder.build();
  const embed = embedBatch(model);
  if (options.batching === false) {
    server.engine.handle('complete', (req: CompletionRequest, ctx) => (ctx.isStream ? completeStream(model, req, ctx) : complete(model, req, ctx)));
    server.engine.handle('embed', (req) => {
      const [answer] = embed([req]);
      if (answer instanceof Error) throw answer;
      return answer;
    });
  } else {
    server.engine.handleSteps('complete', completionSteps(model, 16));
    server.engine.handleBatch('embed', embed, { maxBatchSize: 64, maxWaitMs: 2, maxQueue: 1024 });
  }
  return { server, model };
}
