// Seed example 1: a simple server in direct mode (no subprocess).
// Run: npx tsx examples/01-simple/main.ts   (PORT=9000 to change the port; default 8000)
// Then: curl localhost:8000/health, curl localhost:8000/hello/World, open localhost:8000/docs
import type { FastifyRequest } from 'fastify';
// In your own project: import { ServerBuilder } from 'appinfra';
import { ServerBuilder } from '../../src/index.js';

async function health(): Promise<{ status: string }> {
  return { status: 'ok' };
}

async function hello(request: FastifyRequest<{ Params: { name: string } }>): Promise<{ message: string }> {
  return { message: `Hello, ${request.params.name}!` };
}

const server = new ServerBuilder('simple-api')
  .withPort(Number(process.env.PORT ?? 8000))
  .routes.withRoute('/health', health)
  .withRoute('/hello/{name}', hello)
  .done()
  .build();

const { host, port } = server.config;
console.log(`simple-api on http://${host}:${port} (docs at /docs); Ctrl-C stops it`);
// Blocks until Ctrl-C or SIGTERM, then stops gracefully.
await server.start();
