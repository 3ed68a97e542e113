/**
 * Issue 15, item 1: a value the codec cannot encode fails only the request that carries
 * it. For each codec, a real engine process (test/core/fixtures/unencodable/main.ts) with
 * one real web process: an engine reply, a stream chunk after the headers went out, and a
 * route module's request that the codec cannot carry. The client gets a 500 (or the
 * stream's error event) with a generic body, a concurrent request on the same web
 * process succeeds, the web process is not restarted, and the engine's log names the
 * handler.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, isAlive, resourcesNow, waitFor } from '../helpers.js';
import { hit, run, type Running } from '../examples/proc.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerBuilder, type Server } from '../../src/index.js';
import { UNENCODABLE, unencodable } from './fixtures/unencodable/values.js';

const MAIN = fileURLToPath(new URL('./fixtures/unencodable/main.ts', import.meta.url));
const CODECS = ['json', 'msgpack', 'v8'] as const;
type CodecName = (typeof CODECS)[number];

interface App {
  proc: Running;
  base: string;
  webPid: number;
}

interface Health {
  pid: number;
  restarts: number;
  ipc: { connected: boolean; pending: number };
}

const GENERIC_500 = { statusCode: 500, code: 'INTERNAL_ERROR', error: 'Internal Server Error', message: 'Internal Server Error' };

let baseline: string[];
let direct: Server | undefined;
const apps = new Map<CodecName, App>();

async function health(app: App): Promise<Health> {
  const r = await hit(`${app.base}/_health`);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Health;
}

/** The engine's log lines (pino JSON on the engine process's stdout) at error level. */
interface LogLine {
  name?: string;
  level?: number;
  route?: string;
  id?: string;
  msg?: string;
  codec?: string;
  reason?: string;
}

function engineErrors(app: App): LogLine[] {
  return app.proc.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.name === 'unencodable.engine' && l.level === 50);
}

function assertNoSecret(body: string): void {
  // The values' contents, and the codecs' own messages (v8's quotes a function's source).
  for (const secret of ['secret-function-source', 'secret-symbol', 'could not be cloned', 'Do not know how', 'Converting circular', 'Maximum call stack', 'Unknown type', ' at ']) {
    assert.ok(!body.includes(secret), `"${secret}" reached the client: ${body}`);
  }
}

before(async () => {
  baseline = resourcesNow();
  // One after the other: three engines starting at once on a busy 2-core machine start slowly.
  for (const codec of CODECS) {
    const app: App = { proc: run(MAIN, { CODEC: codec }), base: '', webPid: 0 };
    apps.set(codec, app);
    app.base = (await app.proc.line(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/, 60_000))[1]!;
    app.webPid = (await health(app)).pid;
  }
});

after(async () => {
  await direct?.stop(1);
  for (const app of apps.values()) {
    if (app.proc.child.exitCode === null) app.proc.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([app.proc.exited, new Promise((r) => (timer = setTimeout(r, 5000, 'timeout')))]);
    clearTimeout(timer);
    await app.proc.kill([app.webPid].filter((p) => p && isAlive(p)));
    assert.notEqual(exit, 'timeout', 'the fixture stopped on SIGTERM');
  }
  await assertNoLeaks(baseline);
});

for (const codec of CODECS) {
  describe(`codec ${codec}`, () => {
    const kinds = UNENCODABLE[codec];
    // Forward routes answer in JSON, so the engine sends their replies as JSON text whatever
    // the codec (the web process writes them out unparsed): there, what JSON cannot carry is
    // what fails. A Symbol or a function is dropped, as Fastify and direct mode do.
    const replyKinds = UNENCODABLE.json;

    test(`a reply its JSON form cannot carry (${replyKinds.join(', ')}) is a generic 500 for that request only; no restart`, async () => {
      const app = apps.get(codec)!;
      const before = await health(app);
      const failedBefore = (JSON.parse((await hit(`${app.base}/stats`)).body) as { failed: number }).failed;
      // In flight on the same (only) web process while the bad replies come back.
      const slow = hit(`${app.base}/slow`);
      for (const kind of replyKinds) {
        const r = await hit(`${app.base}/bad/${kind}`);
        assert.equal(r.status, 500, r.body);
        assert.deepEqual(JSON.parse(r.body), GENERIC_500);
        assertNoSecret(r.body);
      }
      const good = await slow;
      assert.equal(good.status, 200, good.body);
      assert.equal((JSON.parse(good.body) as { ok: boolean }).ok, true);

      const after = await health(app);
      assert.equal(after.pid, before.pid, 'the same web process answers: it was not restarted');
      assert.equal(after.restarts, 0);
      assert.equal(after.ipc.connected, true);
      assert.ok(!/^event (restart|failed)/m.test(app.proc.stdout), app.proc.stdout);

      // The log reaches us over the engine process's stdout pipe, maybe after the replies.
      await waitFor(() => engineErrors(app).filter((l) => l.route === 'badReply').length >= replyKinds.length, 3000, 'the engine\'s error log lines');
      const logged = engineErrors(app).filter((l) => l.route === 'badReply');
      assert.equal(logged.length, replyKinds.length, JSON.stringify(engineErrors(app)));
      for (const l of logged) {
        assert.equal(typeof l.id, 'string');
        assert.match(l.msg ?? '', /encode/i);
        assert.equal(l.codec, 'json');
        assert.ok(l.reason, 'the codec\'s own reason is in the log');
      }
      const stats = JSON.parse((await hit(`${app.base}/stats`)).body) as { failed: number; pending: number };
      assert.equal(stats.failed - failedBefore, replyKinds.length, 'each counts as failed');
      // What JSON drops rather than refuses is dropped, exactly as in direct mode.
      for (const kind of kinds.filter((k) => !replyKinds.includes(k))) {
        const r = await hit(`${app.base}/bad/${kind}`);
        assert.equal(r.status, 200, r.body);
        assert.equal(r.body, '{}');
      }
    });

    test('a stream chunk it cannot encode ends that stream with the error event; the rest of the stream is not sent', async () => {
      const app = apps.get(codec)!;
      const before = await health(app);
      for (const kind of replyKinds) {
        const endedBefore = (JSON.parse((await hit(`${app.base}/stats`)).body) as { streamEnded: number }).streamEnded;
        const r = await hit(`${app.base}/bad-stream/${kind}`);
        assert.equal(r.status, 200, r.body);
        const events = r.body.split('\n\n').filter(Boolean);
        assert.deepEqual(events.slice(0, 2), ['data: {"i":0}', 'data: {"i":1}']);
        assert.equal(events.length, 3, r.body);
        const [head, data] = events[2]!.split('\n');
        assert.equal(head, 'event: error');
        assert.deepEqual(JSON.parse(data!.replace(/^data: /, '')), { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal Server Error' });
        assertNoSecret(r.body);
        // The handler's generator was stopped, not left running for nobody.
        await waitFor(async () => (JSON.parse((await hit(`${app.base}/stats`)).body) as { streamEnded: number }).streamEnded === endedBefore + 1, 3000, 'the stream handler to end');
      }
      await waitFor(() => engineErrors(app).filter((l) => l.route === 'badStream').length === replyKinds.length, 3000, 'one engine error log line per stream');
      const after = await health(app);
      assert.equal(after.pid, before.pid);
      assert.equal(after.restarts, 0);
      await waitFor(async () => (JSON.parse((await hit(`${app.base}/stats`)).body) as { pending: number }).pending === 1, 3000, 'only the stats request pending in the engine');
    });

    test('a route module submitting a value it cannot carry gets a typed 500-class error; the channel stays usable', async () => {
      const app = apps.get(codec)!;
      const before = await health(app);
      for (const kind of kinds) {
        const caught = await hit(`${app.base}/submit-bad/${kind}`);
        assert.equal(caught.status, 200, caught.body);
        assert.deepEqual(JSON.parse(caught.body), { caught: { code: 'APPINFRA_ERR_ENCODE', status: 500, name: 'EncodeError' }, pending: 0, connected: true });

        const stream = await hit(`${app.base}/submit-bad-stream/${kind}`);
        assert.deepEqual(JSON.parse(stream.body), { caught: { code: 'APPINFRA_ERR_ENCODE', status: 500 }, pending: 0 });

        const uncaught = await hit(`${app.base}/submit-bad-uncaught/${kind}`);
        assert.equal(uncaught.status, 500, uncaught.body);
        assert.equal((JSON.parse(uncaught.body) as { code: string }).code, 'APPINFRA_ERR_ENCODE');
        assertNoSecret(uncaught.body);
      }
      const good = await hit(`${app.base}/submit-good`);
      assert.equal(good.status, 200, good.body);
      assert.deepEqual((JSON.parse(good.body) as { reply: { echoed: { x: number } } }).reply.echoed.x, 1);
      const after = await health(app);
      assert.equal(after.pid, before.pid);
      assert.equal(after.restarts, 0);
      assert.equal(after.ipc.pending, 0, 'no waiter left behind');
    });
  });
}

/**
 * Direct mode has no codec (the memory link hands objects over as they are); what JSON
 * cannot carry fails where the reply is written, in the web side. The client sees the
 * same as in subprocess mode, and the engine's work on a failed stream stops.
 */
describe('direct mode (memory link)', () => {
  let base: string;
  let produced = 0;
  let ended = 0;

  before(async () => {
    direct = new ServerBuilder('unencodable-direct')
      .withPort(0)
      .routes.withForward('/bad/{kind}', { handler: 'badReply' })
      .withForward('/bad-stream/{kind}', { handler: 'badStream', reply: 'sse' })
      .withForward('/slow', { handler: 'slow' })
      .done()
      .uvicorn.withLogLevel('critical')
      .done()
      .build();
    direct.engine.handle('badReply', (req) => unencodable(req.params.kind));
    direct.engine.handle('slow', async () => {
      await sleep(300);
      return { ok: true };
    });
    direct.engine.handle('badStream', async function* (req) {
      try {
        yield { i: 0 };
        yield unencodable(req.params.kind);
        for (let i = 2; i < 1000; i++) {
          produced++;
          yield { i };
          await sleep(2);
        }
      } finally {
        ended++;
      }
    });
    base = (await direct.listen()).url;
  });

  test('a reply JSON cannot carry is a generic 500, a stream ends with the error event and stops the engine\'s stream', async () => {
    const slow = fetch(`${base}/slow`);
    for (const kind of UNENCODABLE.json) {
      const r = await fetch(`${base}/bad/${kind}`);
      assert.equal(r.status, 500);
      assert.deepEqual(await r.json(), GENERIC_500);
    }
    assert.equal((await slow).status, 200);
    // A stream: the error event, and the engine's generator is stopped, not left to run on for nobody.
    for (const kind of UNENCODABLE.json) {
      const endedBefore = ended;
      const r = await fetch(`${base}/bad-stream/${kind}`);
      const events = (await r.text()).split('\n\n').filter(Boolean);
      assert.equal(events[0], 'data: {"i":0}');
      assert.equal(events.at(-1)!.split('\n')[0], 'event: error');
      assertNoSecret(events.join('\n'));
      await waitFor(() => ended === endedBefore + 1, 3000, 'the engine stream to be stopped');
      await waitFor(() => direct!.engine.pendingCount === 0 && direct!.ipc!.pendingCount === 0, 3000, 'nothing pending on either side');
    }
    assert.ok(produced < 200, `the engine stopped early (${produced} chunks produced)`);
  });
});
