import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';

export interface DocsOptions {
  title: string;
  description: string;
  version: string;
}

/** Response headers the docs app sets that the serving app sets again itself. */
const HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/**
 * `/openapi.json` and the Swagger UI at `/docs`, built on the first request instead of at
 * start-up. Registering @fastify/swagger and @fastify/swagger-ui cost about 140 ms of a
 * web process's start (every start, restart and recycle), for pages that most processes
 * never serve. The routes are collected as they are declared (an onRoute hook, so it must
 * be installed before any route), and on first use they are declared again, with no
 * handler and no validation, in a small Fastify instance of their own that carries the
 * two plugins; `/docs` requests are answered from it through `inject`.
 */
export function installLazyDocs(app: FastifyInstance, options: DocsOptions): void {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    // HEAD-only routes (Fastify's automatic twins of GET routes among them) are not listed, as
    // @fastify/swagger does by default; nor are the docs' own routes.
    if (route.method === 'HEAD' || route.url === '/docs' || route.url.startsWith('/docs/')) return;
    routes.push(route);
  });
  let built: Promise<FastifyInstance> | undefined;
  const docs = (): Promise<FastifyInstance> => (built ??= buildDocs(app, routes, options));
  app.get('/openapi.json', { schema: { hide: true } }, async () => (await docs()).swagger());
  const relay = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const res = await (await docs()).inject({ method: req.method as 'GET' | 'HEAD', url: req.url, headers: req.headers });
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    return reply.code(res.statusCode).send(res.rawPayload);
  };
  app.route({ method: ['GET', 'HEAD'], url: '/docs', schema: { hide: true }, exposeHeadRoute: false, handler: relay });
  app.route({ method: ['GET', 'HEAD'], url: '/docs/*', schema: { hide: true }, exposeHeadRoute: false, handler: relay });
}

async function buildDocs(app: FastifyInstance, routes: readonly RouteOptions[], options: DocsOptions): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
  const docs = Fastify({ logger: false, exposeHeadRoutes: false });
  // The schemas are only described here, never checked: the serving app validates.
  docs.setValidatorCompiler(() => () => true);
  docs.setSerializerCompiler(() => (data) => JSON.stringify(data));
  for (const schema of Object.values(app.getSchemas())) docs.addSchema(schema as { $id: string });
  await docs.register(swagger, {
    openapi: { openapi: '3.0.3', info: { title: options.title, description: options.description, version: options.version } },
  });
  // The page title as FastAPI sets it; swagger-ui puts it into the HTML unescaped.
  const pageTitle = `${options.title} - Swagger UI`.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' }, theme: { title: pageTitle } });
  for (const r of routes) {
    docs.route({ method: r.method, url: r.url, ...(r.schema ? { schema: r.schema } : {}), ...(r.constraints ? { constraints: r.constraints } : {}), handler: noop });
  }
  await docs.ready();
  return docs;
}

function noop(): void {}
