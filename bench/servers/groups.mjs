// appinfra with a process group (dist/): POST /burn is served by `--processes N` group
// processes (bench/servers/cpu.mjs), reached from the engine over signed tcp_local.
import { parseArgs } from 'node:util';
import { Queue, ServerBuilder } from '../../dist/index.js';
import { HOST, PORT, onStop, ready } from './shared.mjs';

const { values } = parseArgs({ options: { processes: { type: 'string', default: '2' } } });
const server = new ServerBuilder('bench-groups')
  .withHost(HOST)
  .withPort(PORT)
  .withProcessGroup('cpu', { module: new URL('./cpu.mjs', import.meta.url), processes: Number(values.processes), handlers: ['burn'] })
  .routes.withForward('/burn', { methods: ['POST'], handler: 'burn' })
  .done()
  .subprocess.withIpc(new Queue(), new Queue())
  .done()
  .build();
const { url } = await server.listen();
onStop(() => server.stop(2));
const pids = [{ role: 'web', pid: server.pid }, { role: 'engine', pid: process.pid }, ...server.groupStatus[0].processes.map((p, i) => ({ role: `group${i}`, pid: p.pid }))];
ready(url, pids);
