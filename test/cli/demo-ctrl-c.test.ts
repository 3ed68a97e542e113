/**
 * Ctrl-C of the README's main command, `npm start`, with work in flight. A terminal sends
 * SIGINT to the whole foreground process group (npm, the script's shell, the engine, the
 * web process) and npm forwards its own copy to the script: the in-flight requests must
 * still get their whole answer, and every process of the group must be gone afterwards.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { assertNoLeaks, json, resourcesNow, waitFor } from '../helpers.js';
import { ROOT } from './proc.js';

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

/** Live pids whose process group is `pgid` (from /proc, so grandchildren count too). */
function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name: state ppid pgrp ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

interface Completion {
  choices: { text: string; finish_reason: string | null }[];
  usage?: { completion_tokens: number };
}

/** Starts `command` in its own process group (the one a terminal would signal) and watches its output. */
function launch(command: string, args: string[]): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(command, args, { cwd: ROOT, detached: true, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // 'close': every process holding the pipes (the engine too, if npm exits first) is gone.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, out: () => stdout, err: () => stderr, exited };
}

/**
 * Runs the demo with `launch`, puts a blocking JSON completion and a stream in flight,
 * calls `interrupt(pgid, p)` and checks that both complete and the whole group exits.
 */
async function ctrlC(p: ReturnType<typeof launch>, interrupt: (pgid: number) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const pgid = p.child.pid!;
  try {
    await waitFor(() => /listening on \S+/.test(p.out()) || p.child.exitCode !== null, 60_000, `the demo to listen (stderr: ${p.err()})`);
    const url = /listening on (\S+)/.exec(p.out())?.[1];
    assert.ok(url, `the demo did not listen: ${p.out()} ${p.err()}`);
    assert.ok(groupPids(pgid).length >= 2, 'the engine and its web process share the group');

    // A JSON completion and a stream, stepping together in the engine's batch: both must
    // survive the signal. Short enough to finish within the 5 s drain on a loaded machine
    // (a step of two sequences took up to 125 ms with a load average of 11 on 2 cores).
    const blocking = fetch(`${url}/v1/completions`, json({ prompt: 'The keeper', max_tokens: 16, ignore_eos: true })).then(async (r) => ({ status: r.status, body: (await r.json()) as Completion }));
    const streamed = fetch(`${url}/v1/completions`, json({ prompt: 'The keeper', max_tokens: 16, ignore_eos: true, stream: true })).then(async (r) => ({ status: r.status, body: await r.text() }));
    await waitFor(async () => ((await (await fetch(`${url}/_health`)).json()) as { ipc: { pending: number } }).ipc.pending >= 2, 20_000, 'both completions to reach the engine');

    interrupt(pgid);

    const [b, s] = await Promise.all([blocking, streamed]);
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.equal(b.body.usage?.completion_tokens, 16);
    assert.equal(s.status, 200);
    const events = s.body.split('\n\n').filter(Boolean);
    assert.equal(events.at(-1), 'data: [DONE]');
    assert.equal(events.length, 17, 'one event per token, then [DONE]');

    const exit = await p.exited;
    assert.match(p.err(), /SIGINT received, stopping/);
    await waitFor(() => groupPids(pgid).length === 0, 10_000, `process group ${pgid} to be empty (left: ${groupPids(pgid).join(' ')})`);
    return exit;
  } finally {
    if (groupPids(pgid).length > 0) process.kill(-pgid, 'SIGKILL');
    await p.exited;
  }
}

test('Ctrl-C of `npm start` drains the in-flight completions, then every process exits', async () => {
  const exit = await ctrlC(launch('npm', ['start', '--silent']), (pgid) => process.kill(-pgid, 'SIGINT'));
  // npm passes on the script's status 130 (128 + SIGINT), or dies of the signal itself.
  assert.ok(exit.code === 130 || exit.signal === 'SIGINT', `npm exited ${JSON.stringify(exit)}`);
});

test('Ctrl-C when the script shell execs the demo (bash as sh): the SIGINT npm forwards on top of the terminal\'s does not cut the drain', async () => {
  // What `npm start` becomes where sh is bash (macOS, Fedora): npm -> node, and node
  // receives the terminal's SIGINT and npm's forwarded copy a moment later.
  const p = launch(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts']);
  const exit = await ctrlC(p, (pgid) => {
    process.kill(-pgid, 'SIGINT');
    setTimeout(() => process.kill(pgid, 'SIGINT'), 5).unref();
  });
  assert.deepEqual(exit, { code: 130, signal: null });
});
