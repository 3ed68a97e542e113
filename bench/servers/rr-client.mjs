// The calling side of the request/reply comparison: --kind moleculer|appinfra, --conns N
// calls in flight, --seconds S (after --warmup S), the same ~100-byte JSON body as the
// HTTP cells. Prints BENCH_RR {"rps","p50Us","p99Us","n","errors"}.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({ options: { kind: { type: 'string' }, conns: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string', default: '1' }, 'secret-file': { type: 'string' }, body: { type: 'string' } } });
const url = process.env.BENCH_REDIS_URL;
const conns = Number(values.conns);
const body = JSON.parse(values.body);
let call;
let close;
if (values.kind === 'moleculer') {
  const { ServiceBroker } = await import('moleculer');
  const broker = new ServiceBroker({ nodeID: `cli-${process.pid}`, transporter: url, logger: false });
  await broker.start();
  await broker.waitForServices('echo');
  call = () => broker.call('echo.echo', { ...body });
  close = () => broker.stop();
} else {
  const { IPCChannel, RedisWebLink } = await import('../../dist/index.js');
  const { loadSecret } = await import('../../dist/ipc/signing.js');
  const { jsonCodec } = await import('../../dist/ipc/codecs/index.js');
  const link = new RedisWebLink({ url, prefix: 'bench-rr', secret: await loadSecret(values['secret-file']), codec: jsonCodec }, 'bench');
  await link.start();
  const channel = new IPCChannel({ maxPending: 10_000, responseTimeout: 30, replyTo: link.name }, link);
  await channel.start();
  call = () => channel.submit({ ...body }, { route: 'echo' });
  close = async () => {
    await channel.stop();
    await link.stop();
  };
}

async function run(seconds, record) {
  const end = performance.now() + seconds * 1000;
  const lat = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await call();
          if (record) lat.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { lat, errors };
}

await run(Number(values.warmup), false);
// A profiler (bench/rr.ts) samples CPU and Redis's command counts from here on.
process.stdout.write('BENCH_RR_MEASURING\n');
const seconds = Number(values.seconds);
const { lat, errors } = await run(seconds, true);
lat.sort((a, b) => a - b);
const q = (p) => Math.round((lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN) * 1000);
process.stdout.write(`BENCH_RR ${JSON.stringify({ rps: Math.round(lat.length / seconds), p50Us: q(0.5), p99Us: q(0.99), n: lat.length, errors })}\n`);
await close();
process.exit(0);
