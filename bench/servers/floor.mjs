// The IPC floor: a bare round trip between two Node processes over the kind of pipe
// appinfra uses (an extra stdio 'pipe' of a fork, a Unix socketpair; 4-byte big-endian
// length-prefixed frames), one frame in flight, nothing else. Prints one line:
//   BENCH_FLOOR {"n":..,"p50Us":..,"p99Us":..}
//   node bench/servers/floor.mjs [seconds=1]
import { fork } from 'node:child_process';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const DATA_FD = 4;

function child() {
  const socket = new Socket({ fd: DATA_FD, readable: true, writable: true });
  let buf = Buffer.alloc(0);
  socket.on('data', (data) => {
    buf = buf.length ? Buffer.concat([buf, data]) : data;
    while (buf.length >= 4) {
      const end = 4 + buf.readUInt32BE(0);
      if (buf.length < end) break;
      socket.write(buf.subarray(0, end));
      buf = buf.subarray(end);
    }
  });
  socket.on('close', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

async function parent(seconds) {
  const proc = fork(new URL(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'], execArgv: [] });
  const socket = proc.stdio[DATA_FD];
  // About the size of a request envelope for the ~100-byte echo body.
  const body = Buffer.from(JSON.stringify({ id: 'bench.w0.g1.1', route: 'echo', body: { user: 'bench', text: 'the quick brown fox jumps over the lazy dog', n: 42, tags: ['a', 'b', 'c'], ok: true } }));
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeUInt32BE(body.length, 0);
  let got = 0;
  let wake;
  socket.on('data', (d) => {
    got += d.length;
    if (got >= frame.length) {
      got -= frame.length;
      wake();
    }
  });
  const roundTrip = () => new Promise((resolve) => {
    wake = resolve;
    socket.write(frame);
  });
  for (let i = 0; i < 2000; i++) await roundTrip();
  const times = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    await roundTrip();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const at = (q) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 10) / 10;
  process.stdout.write(`BENCH_FLOOR ${JSON.stringify({ n: times.length, p50Us: at(0.5), p99Us: at(0.99) })}\n`);
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  socket.end();
  proc.disconnect();
  await exited;
}

if (process.argv[2] === '--child') child();
else await parent(Number(process.argv[2] ?? 1));
