/**
 * Seed example 3: a server integrated with an AppBuilder CLI app.
 *
 *   npx tsx examples/03-appbuilder/main.ts serve            # starts the HTTP server (PORT to change)
 *   npx tsx examples/03-appbuilder/main.ts other --times 2  # runs another tool
 *   npx tsx examples/03-appbuilder/main.ts --help
 *
 * Subprocess mode: the routes are forward routes (no code in the web process) and
 * their handlers run here, in the main process.
 */
import { AppBuilder, Queue, ServerBuilder, ServerPlugin, type Tool, type ToolContext } from '../../src/index.js';

const requestQ = new Queue();
const responseQ = new Queue();

const server = new ServerBuilder('myapp-api')
  .withPort(Number(process.env.PORT ?? 8000))
  .routes.withForward('/health', { handler: 'health', summary: 'Application health' })
  .withForward('/api/data', { handler: 'getData', summary: 'Some data computed by the engine' })
  .done()
  .subprocess.withIpc(requestQ, responseQ)
  .done()
  .build();

server.engine.handle('health', async () => ({ status: 'ok' }));
server.engine.handle('getData', async (_req, ctx) => ({ data: [1, 2, 3], servedBy: process.pid, requestId: ctx.id }));

class OtherTool implements Tool {
  readonly name = 'other';
  readonly aliases = ['o'];
  readonly help = 'Run another tool of this app';
  readonly options = [{ flags: '--times <n>', help: 'how many times to say it', default: 1, parse: Number }];

  run(ctx: ToolContext): number {
    for (let i = 0; i < (ctx.options.times as number); i++) ctx.print('other tool ran');
    return 0;
  }
}

const app = new AppBuilder('myapp')
  .withDescription('My application with HTTP API')
  .withVersion('1.0.0')
  .tools.withPlugin(new ServerPlugin(server))
  .withTool(new OtherTool())
  .done()
  .build();

await app.main();
