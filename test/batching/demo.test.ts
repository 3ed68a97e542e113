/** The demo on batching, as a real process: /v1/embeddings on dynamic batching, /v1/completions on continuous batching. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { guardLeaks, json, waitFor } from '../helpers.js';
import { start, stop, type Running } from '../cli/proc.js';

const DEMO = fileURLToPath(new URL('../../examples/demo/main.ts', import.meta.url));

let demo: Running;
let url: string;
guardLeaks({ cleanup: async () => assert.deepEqual(await stop(demo, 'SIGINT'), { code: 130, signal: null }) });
before(async () => {
  demo = start(DEMO, [], { PORT: '0' });
  url = (await demo.waitForOutput(/demo listening on (\S+) \(subprocess mode/))[1]!;
});

interface Embeddings {
  object: string;
  data: { object: string; index: number; embedding: number[] }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

type Handlers = Record<string, Record<string, number | string>>;

async function handlers(): Promise<Handlers> {
  return (((await (await fetch(`${url}/_health`)).json()) as { handlers?: Handlers }).handlers ?? {});
}

test('/v1/embeddings answers in OpenAI shape; concurrent requests share a batch, an unknown model fails alone', async () => {
  const bodies = [{ input: 'The keeper' }, { input: ['The keeper', 'the lamp was lit'] }, { input: 'x', model: 'gpt-nothing' }, { input: 'The keeper' }];
  const answers = await Promise.all(bodies.map(async (b) => {
    const r = await fetch(`${url}/v1/embeddings`, json(b));
    return { status: r.status, body: (await r.json()) as Embeddings & { error?: { code: string } } };
  }));
  const [one, two, bad, again] = answers;
  assert.equal(one!.status, 200);
  assert.equal(one!.body.object, 'list');
  assert.equal(one!.body.model, 'lighthouse-trigram-o200k');
  assert.equal(one!.body.data.length, 1);
  assert.equal(one!.body.data[0]!.object, 'embedding');
  assert.equal(one!.body.data[0]!.embedding.length, 384);
  const norm = Math.sqrt(one!.body.data[0]!.embedding.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-6, 'unit length');
  assert.deepEqual(one!.body.usage, { prompt_tokens: 2, total_tokens: 2 });
  assert.deepEqual(two!.body.data.map((d) => d.index), [0, 1]);
  // The same text gives the same vector, whichever batch it was in.
  assert.deepEqual(two!.body.data[0]!.embedding, one!.body.data[0]!.embedding);
  assert.deepEqual(again!.body.data[0]!.embedding, one!.body.data[0]!.embedding);
  assert.equal(bad!.status, 404);
  assert.equal(bad!.body.error?.code, 'model_not_found');
  await waitFor(async () => Number((await handlers()).embed?.batchSizeMax) > 1, 5000, 'a batch of more than one in /_health');
});

test('16 streams share the steps; one client hanging up leaves the batch while the others finish', async () => {
  // Short enough to finish well inside the demo's deadlines on a loaded CI machine; the first client leaves after 5.
  const TOKENS = 16;
  const gone = new AbortController();
  const stream = async (i: number): Promise<number> => {
    const res = await fetch(`${url}/v1/completions`, { ...json({ prompt: 'The keeper', max_tokens: TOKENS, ignore_eos: true, stream: true, seed: i }), ...(i === 0 ? { signal: gone.signal } : {}) });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (i === 0 && text.split('data: {').length > 5) {
        gone.abort();
        return -1;
      }
    }
    assert.match(text, /data: \[DONE\]\n\n$/);
    return text.split('\n\n').filter((e) => e.startsWith('data: {')).length;
  };
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => stream(i).catch((err: Error) => (i === 0 && err.name === 'AbortError' ? -1 : (console.log('ERR', i, demo.stdout.slice(-3000), demo.stderr.slice(-3000)), Promise.reject(err))))));
  if (process.env.DEBUG_DEMO) console.log(demo.stdout, demo.stderr);
  assert.equal(results[0], -1);
  assert.deepEqual(results.slice(1), Array(15).fill(TOKENS), 'the 15 others got every token');
  let c: Record<string, number | string> | undefined;
  await waitFor(async () => {
    c = (await handlers()).complete;
    return c?.running === 0 && c.queued === 0;
  }, 10_000, '/_health: the batch to empty').catch((err: Error) => assert.fail(`${err.message}; last figures: ${JSON.stringify(c)}`));
  assert.ok(Number(c!.batchSizeMax) >= 4, `many sequences stepped together: ${JSON.stringify(c)}`);
  assert.ok(Number(c!.cancelled) + Number(c!.admitted) >= 16);
});
