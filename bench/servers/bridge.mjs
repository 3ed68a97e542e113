// Baseline 2, the parent of the hand bridge: runs the handlers for a Fastify child
// (bridge-web.mjs) that forwards each request with process.send. What people write by
// hand in an afternoon: Node's IPC channel (JSON serialisation), one message per answer,
// one per SSE chunk and one to end the stream.
import { fork } from 'node:child_process';
import { HOST, chunks, echo, onStop, ready } from './shared.mjs';

const child = fork(new URL('./bridge-web.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });

async function stream(id) {
  for await (const chunk of chunks()) child.send({ id, chunk });
  child.send({ id, end: true });
}

child.on('message', (m) => {
  if (m.route === 'echo') child.send({ id: m.id, result: echo(m.body) });
  else if (m.route === 'sse') void stream(m.id);
  else if (m.type === 'ready') ready(`http://${HOST}:${m.port}`, [{ role: 'web', pid: child.pid }, { role: 'parent', pid: process.pid }]);
});
child.on('exit', (code) => {
  console.error(`bridge: web child exited (${code})`);
  process.exit(1);
});
onStop(async () => {
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
});
