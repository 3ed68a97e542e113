/** What every protocol example shares: fresh queues, a `close` that also ends them, and running as a script. */
import { pathToFileURL } from 'node:url';
import { Queue, type ServerBuilder, type Server } from '../../src/index.js';

export interface Example {
  server: Server;
  close: () => Promise<void>;
}

/** Builds a subprocess-mode server from `builder`, with its own request and response queues. */
export function withQueues(builder: ServerBuilder): Example {
  const requestQ = new Queue();
  const responseQ = new Queue();
  const server = builder.subprocess.withIpc(requestQ, responseQ).done().build();
  const close = async (): Promise<void> => {
    await server.stop();
    requestQ.close();
    responseQ.close();
  };
  return { server, close };
}

/** When `meta` is the script node was started with: serves on PORT (or `port`) until Ctrl-C or SIGTERM. */
export async function runAsScript(meta: ImportMeta, create: (port: number) => Example, banner: (url: string) => string, port = 8000): Promise<void> {
  if (meta.url !== pathToFileURL(process.argv[1] ?? '').href) return;
  const { server, close } = create(Number(process.env.PORT ?? port));
  console.log(banner((await server.listen()).url));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close());
  await server.waitStopped();
}
