// The service side of the request/reply comparison over one redis-server (BENCH_REDIS_URL):
//   --kind moleculer  a Moleculer 0.15 broker, Redis transporter, one service `echo` with an
//                     `echo` action returning its params;
//   --kind appinfra   an appinfra engine worker on the Redis backbone (dist/), handler `echo`
//                     returning its payload; the secret comes from --secret-file.
// Prints BENCH_READY once it takes calls; stops when stdin closes (the runner holds it).
import { parseArgs } from 'node:util';
import { onStop, ready } from './shared.mjs';

const { values } = parseArgs({ options: { kind: { type: 'string' }, 'secret-file': { type: 'string' } } });
const url = process.env.BENCH_REDIS_URL;

if (values.kind === 'moleculer') {
  const { ServiceBroker } = await import('moleculer');
  const broker = new ServiceBroker({ nodeID: `svc-${process.pid}`, transporter: url, logger: false });
  broker.createService({ name: 'echo', actions: { echo: (ctx) => ctx.params } });
  await broker.start();
  onStop(() => broker.stop());
} else if (values.kind === 'appinfra') {
  const { Engine, RedisWorkerLink } = await import('../../dist/index.js');
  const { loadSecret } = await import('../../dist/ipc/signing.js');
  const { jsonCodec } = await import('../../dist/ipc/codecs/index.js');
  const engine = new Engine();
  engine.handle('echo', (p) => p);
  const link = new RedisWorkerLink({ url, prefix: 'bench-rr', secret: await loadSecret(values['secret-file']), codec: jsonCodec });
  engine.attach(link);
  await link.start();
  onStop(() => link.stop());
} else {
  throw new Error(`--kind: moleculer or appinfra, not ${values.kind}`);
}
ready(url, [{ role: 'service', pid: process.pid }]);
