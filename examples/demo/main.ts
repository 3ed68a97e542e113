/**
 * The demo (`npm start`): an OpenAI-style completion service. The web process answers
 * HTTP; the CPU-bound model runs here, in the main process.
 *
 *   npm start                       serve on 127.0.0.1:8000 (PORT / HOST to change)
 *   npm start -- measure            /_health latency while a long completion runs, subprocess vs direct mode,
 *                                   and tokens/s for 1, 4, 16 streams with and without continuous batching
 *   npm start -- --help
 */
import { AppBuilder, ServerPlugin } from '../../src/index.js';
import { measure } from './measure.js';
import { createDemoServer } from './server.js';

const { server, model } = createDemoServer({
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 8000),
  // Direct mode exists only so `measure` can show the difference; the demo is subprocess mode.
  subprocess: process.env.DEMO_MODE !== 'direct',
  // Batching off exists only so `measure` can show what it buys.
  batching: process.env.DEMO_BATCHING !== 'off',
});

const app = new AppBuilder('demo')
  .withDescription(`appinfra demo: OpenAI-style completions from ${model.name}, a CPU-bound engine in the main process`)
  .withVersion('0.1.0')
  .tools.withPlugin(new ServerPlugin(server, { toolHelp: 'Serve /v1/completions, /docs, /_health, /metrics and /_status (default tool)' }))
  .withCmd('measure', measure, {
    help: 'Measure /_health latency while the engine is busy (subprocess vs direct mode) and tokens/s with and without batching',
    options: [
      { flags: '--tokens <n>', help: 'length of the long completion', default: 300, parse: Number },
      { flags: '--interval <ms>', help: 'pause between two /_health probes', default: 10, parse: Number },
      { flags: '--streams <list>', help: 'concurrent streams to measure tokens/s at', default: '1,4,16' },
      { flags: '--stream-tokens <n>', help: 'tokens per stream', default: 64, parse: Number },
      { flags: '--only <part>', help: 'health or tokens (default: both)' },
      { flags: '--json', help: 'also print the tokens/s figures as one DEMO_TOKENS {json} line' },
    ],
  })
  .done()
  .build();

// `npm start` with no tool (or only options) means `serve`.
const argv = process.argv.slice(2);
const help = ['-h', '--help', '-V', '--version', 'help'];
await app.main(argv.length === 0 || (argv[0]!.startsWith('-') && !help.includes(argv[0]!)) ? ['serve', ...argv] : argv);
