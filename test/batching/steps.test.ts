/** Continuous batching (engine.handleSteps) over a real socket pair: joins, leaves, per-sequence credit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import type { EngineContext } from '../../src/engine/context.js';
import { EngineError } from '../../src/errors/index.js';
import { guardLeaks } from '../helpers.js';
import { enginePair } from './pair.js';

const dir = guardLeaks({ tmp: 'appinfra-steps-' });

interface Counter {
  name: string;
  n: number;
  until: number;
}

/** A step handler that counts: each step gives every sequence its next number; it records the batch of every step. */
function counter(steps: string[][], maxBatchSize = 16) {
  const stopped: string[] = [];
  const handler = {
    maxBatchSize,
    start: (req: { name: string; until: number }): Counter => {
      if (req.until < 0) throw new EngineError(400, 'until must be >= 0', 'BAD_UNTIL');
      return { name: req.name, n: 0, until: req.until };
    },
    step: (seqs: Counter[], ctxs: EngineContext[]) => {
      assert.equal(seqs.length, ctxs.length);
      steps.push(seqs.map((s) => s.name));
      return seqs.map((s) => {
        s.n++;
        return { chunk: `${s.name}${s.n}`, done: s.n >= s.until };
      });
    },
    result: (s: Counter) => ({ name: s.name, count: s.n }),
    stop: (s: Counter) => {
      stopped.push(s.name);
    },
  };
  return { handler, stopped };
}

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const c of it) out.push(c);
  return out;
}

test('sequences step together; one that arrives later joins between steps; finished ones leave', async () => {
  const steps: string[][] = [];
  const { handler } = counter(steps);
  const engine = new Engine().handleSteps('count', handler);
  const { channel, close } = await enginePair(dir, engine);
  try {
    let c: Promise<unknown[]> | undefined;
    const a = (async () => {
      const out: unknown[] = [];
      for await (const chunk of channel.submitStreaming({ name: 'a', until: 300 }, { route: 'count' })) {
        // c arrives while a is running.
        if (out.push(chunk) === 5) c = collect(channel.submitStreaming({ name: 'c', until: 2 }, { route: 'count' }));
      }
      return out;
    })();
    const b = collect(channel.submitStreaming({ name: 'b', until: 3 }, { route: 'count' }));
    const [ra, rb] = await Promise.all([a, b]);
    const rc = await c;
    assert.deepEqual(ra, Array.from({ length: 300 }, (_, i) => `a${i + 1}`));
    assert.deepEqual(rb, ['b1', 'b2', 'b3']);
    assert.deepEqual(rc, ['c1', 'c2']);
    assert.deepEqual(steps[0], ['a', 'b'], 'the first two share the first step');
    assert.ok(steps.slice(3).every((s) => !s.includes('b')), 'b left after its third step');
    const withC = steps.filter((s) => s.includes('c'));
    assert.equal(withC.length, 2);
    assert.ok(withC.every((s) => s.includes('a')), 'c joined the running batch, next to a');
    const stats = engine.handlerStats().count!;
    assert.equal(stats.batchItems, 305, 'one item per sequence per step');
    assert.equal(stats.maxBatchSizeSeen, 2);
  } finally {
    await close();
  }
});

test('a JSON caller gets result(seq); a failing start fails that request alone', async () => {
  const steps: string[][] = [];
  const { handler } = counter(steps);
  const engine = new Engine().handleSteps('count', handler);
  const { channel, close } = await enginePair(dir, engine);
  try {
    const [ok, bad] = await Promise.allSettled([channel.submit({ name: 'j', until: 4 }, { route: 'count' }), channel.submit({ name: 'x', until: -1 }, { route: 'count' })]);
    assert.deepEqual(ok, { status: 'fulfilled', value: { name: 'j', count: 4 } });
    assert.equal(bad.status, 'rejected');
    assert.equal(((bad as PromiseRejectedResult).reason as EngineError).code, 'BAD_UNTIL');
  } finally {
    await close();
  }
});

test('maxBatchSize: the others wait in the queue and join as places free up', async () => {
  const steps: string[][] = [];
  const { handler } = counter(steps, 2);
  const engine = new Engine().handleSteps('count', handler);
  const { channel, close } = await enginePair(dir, engine);
  try {
    const all = await Promise.all(['p', 'q', 'r', 's'].map((name) => collect(channel.submitStreaming({ name, until: 3 }, { route: 'count' }))));
    assert.deepEqual(all.map((x) => x.length), [3, 3, 3, 3]);
    assert.ok(steps.every((s) => s.length <= 2), 'never more than 2 per step');
    assert.equal(engine.handlerStats().count!.queueWaitCount, 4);
  } finally {
    await close();
  }
});

test('a client that disconnects leaves mid-batch; the others go on to the end', async () => {
  const steps: string[][] = [];
  const { handler, stopped } = counter(steps);
  const engine = new Engine().handleSteps('count', handler);
  const { channel, close } = await enginePair(dir, engine);
  try {
    const gone = new AbortController();
    const stay = collect(channel.submitStreaming({ name: 'stay', until: 200 }, { route: 'count' }));
    const leaving = channel.submitStreaming({ name: 'leave', until: 200 }, { route: 'count', signal: gone.signal });
    let got = 0;
    await assert.rejects(async () => {
      for await (const _ of leaving) {
        if (++got === 5) gone.abort();
      }
    });
    const result = await stay;
    assert.equal(result.length, 200, 'the staying sequence finished');
    assert.deepEqual(stopped, ['leave'], 'stop() freed the leaving sequence');
    const withLeave = steps.filter((s) => s.includes('leave')).length;
    assert.ok(withLeave < 150, `the leaving sequence stopped stepping (${withLeave} steps)`);
    assert.ok(steps.slice(-20).every((s) => s.length === 1 && s[0] === 'stay'), 'the last steps ran without it');
  } finally {
    await close();
  }
});

test('a slow client parks only its own sequence: the batch goes on without it', async () => {
  const steps: string[][] = [];
  const { handler } = counter(steps);
  const engine = new Engine().handleSteps('count', handler);
  const { channel, close } = await enginePair(dir, engine);
  try {
    // The slow client reads nothing until the fast one is done: its window of 4 chunks fills and it parks.
    const slow = channel.submitStreaming({ name: 'slow', until: 50 }, { route: 'count', window: 4 });
    const fast = await collect(channel.submitStreaming({ name: 'fast', until: 100 }, { route: 'count', window: 4 }));
    assert.equal(fast.length, 100);
    const slowSteps = steps.filter((s) => s.includes('slow')).length;
    assert.ok(slowSteps <= 8, `the slow sequence stepped only while it had credit (${slowSteps} steps)`);
    // Once its client reads, it resumes and finishes.
    const rest = await collect(slow);
    assert.deepEqual(rest, Array.from({ length: 50 }, (_, i) => `slow${i + 1}`));
  } finally {
    await close();
  }
});

test('a step that returns an Error for one sequence fails that sequence alone', async () => {
  const engine = new Engine().handleSteps('flaky', {
    start: (req: { name: string }) => ({ name: req.name, n: 0 }),
    step: (seqs: { name: string; n: number }[]) =>
      seqs.map((s) => (s.name === 'bad' && s.n === 2 ? new EngineError(500, 'sequence broke', 'SEQ_BROKE') : { chunk: `${s.name}${++s.n}`, done: s.n >= 5 })),
  });
  const { channel, close } = await enginePair(dir, engine);
  try {
    const good = collect(channel.submitStreaming({ name: 'good' }, { route: 'flaky' }));
    const bad = collect(channel.submitStreaming({ name: 'bad' }, { route: 'flaky' }));
    await assert.rejects(bad, (err: unknown) => (err as EngineError).code === 'SEQ_BROKE');
    assert.deepEqual(await good, ['good1', 'good2', 'good3', 'good4', 'good5']);
  } finally {
    await close();
  }
});
