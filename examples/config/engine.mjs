// The engine module of app.yaml: each exported function is an engine handler, found by
// its export name. It runs in the main process only; the web process never imports it.
// Plain JavaScript so it loads with or without a TypeScript loader.
import process from 'node:process';

/** @param {{ body: { message: string } }} req @param {{ id: string, replyTo: string, deadline?: number }} ctx */
export function echo(req, ctx) {
  return { message: req.body.message, requestId: ctx.id, replyTo: ctx.replyTo, deadline: ctx.deadline, pid: process.pid };
}

/** @param {{ params: { name: string } }} req */
export async function hello(req) {
  return { message: `Hello, ${req.params.name}!` };
}

/** An async generator: each yield is one Server-Sent Event. */
export async function* count(req) {
  const n = req.body?.n ?? 3;
  for (let i = 1; i <= n; i++) yield { i };
}
