/** The demo `npm start` runs, as a real process: OpenAI-style JSON and SSE, /docs, /_health while busy. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, json, resourcesNow, waitFor } from '../helpers.js';
import { start, stop, type Running } from './proc.js';

const DEMO = fileURLToPath(new URL('../../examples/demo/main.ts', import.meta.url));

let baseline: string[];
let demo: Running;
let url: string;
before(async () => {
  baseline = resourcesNow();
  // No tool given: the demo serves, as `npm start` does; PORT=0 picks a free port.
  demo = start(DEMO, [], { PORT: '0' });
  url = (await demo.waitForOutput(/demo listening on (\S+) \(subprocess mode/))[1]!;
});
after(async () => {
  assert.deepEqual(await stop(demo, 'SIGINT'), { code: 130, signal: null });
  await assertNoLeaks(baseline);
});

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: { text: string; index: number; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

test('POST /v1/completions answers an OpenAI-style text_completion', async () => {
  const res = await fetch(`${url}/v1/completions`, json({ prompt: 'The keeper', max_tokens: 12, temperature: 0, ignore_eos: true }));
  assert.equal(res.status, 200);
  const c = (await res.json()) as Completion;
  assert.equal(c.object, 'text_completion');
  assert.match(c.id, /^cmpl-/);
  assert.equal(c.model, 'lighthouse-trigram-o200k');
  assert.equal(c.choices.length, 1);
  assert.equal(c.choices[0]!.finish_reason, 'length');
  assert.ok(c.choices[0]!.text.length > 0);
  // "The keeper" is two o200k tokens.
  assert.deepEqual(c.usage, { prompt_tokens: 2, completion_tokens: 12, total_tokens: 14 });
  // Temperature 0 is greedy: the same prompt gives the same text.
  const again = (await (await fetch(`${url}/v1/completions`, json({ prompt: 'The keeper', max_tokens: 12, temperature: 0, ignore_eos: true }))).json()) as Completion;
  assert.equal(again.choices[0]!.text, c.choices[0]!.text);
});

interface OpenAIError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Posts `body` (an object, or raw text) and checks the answer is exactly OpenAI's error shape. */
async function openaiError(body: unknown, status: number): Promise<OpenAIError['error']> {
  const res = await fetch(`${url}/v1/completions`, typeof body === 'string' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : json(body));
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const parsed = JSON.parse(text) as OpenAIError;
  assert.deepEqual(Object.keys(parsed), ['error'], text);
  assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message', 'param', 'type'], text);
  assert.doesNotMatch(text, /\bat \S+ \(|\.ts:\d+|node:internal/, 'no stack reaches the client');
  return parsed.error;
}

test('errors come in OpenAI\'s shape: 400 naming the offending field for invalid requests', async () => {
  const missing = await openaiError({ max_tokens: 3 }, 400);
  assert.equal(missing.type, 'invalid_request_error');
  assert.equal(missing.param, 'prompt');
  assert.equal(missing.code, 'missing_required_parameter');
  assert.match(missing.message, /Missing required parameter: 'prompt'/);

  const wrongType = await openaiError({ prompt: 'The keeper', max_tokens: 'lots' }, 400);
  assert.equal(wrongType.type, 'invalid_request_error');
  assert.equal(wrongType.param, 'max_tokens');
  assert.equal(wrongType.code, 'invalid_type');
  assert.match(wrongType.message, /'max_tokens'.*integer/);

  // The demo's route is strict, as OpenAI is: a numeric string is not quietly converted.
  const numericString = await openaiError({ prompt: 'The keeper', max_tokens: '3' }, 400);
  assert.equal(numericString.param, 'max_tokens');
  assert.equal(numericString.code, 'invalid_type');
  const numberPrompt = await openaiError({ prompt: 12345 }, 400);
  assert.equal(numberPrompt.param, 'prompt');

  const tooHot = await openaiError({ prompt: 'The keeper', temperature: 5 }, 400);
  assert.equal(tooHot.param, 'temperature');
  assert.equal(tooHot.code, 'decimal_above_max_value');
  assert.match(tooHot.message, /'temperature'.*<= 2.*5/);

  const notObject = await openaiError([{ prompt: 'The keeper' }], 400);
  assert.equal(notObject.param, null);
  assert.match(notObject.message, /expected a JSON object, but got an array/);

  const notJson = await openaiError('{"prompt": "The keeper",', 400);
  assert.equal(notJson.type, 'invalid_request_error');
  assert.equal(notJson.param, null);
  assert.match(notJson.message, /JSON/);
});

test('an unknown model is refused by the engine: 404 model_not_found in OpenAI\'s shape, JSON or stream', async () => {
  for (const stream of [false, true]) {
    const e = await openaiError({ model: 'gpt-4o', prompt: 'The keeper', max_tokens: 2, stream }, 404);
    assert.equal(e.type, 'invalid_request_error');
    assert.equal(e.param, 'model');
    assert.equal(e.code, 'model_not_found');
    assert.match(e.message, /The model 'gpt-4o' does not exist.*lighthouse-trigram-o200k/);
  }
  // Its own name is accepted.
  const ok = await fetch(`${url}/v1/completions`, json({ model: 'lighthouse-trigram-o200k', prompt: 'The keeper', max_tokens: 2 }));
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as Completion).model, 'lighthouse-trigram-o200k');
});

test('"stream": true answers SSE chunks, one per token, ending with data: [DONE]', async () => {
  const res = await fetch(`${url}/v1/completions`, json({ prompt: 'The keeper', max_tokens: 5, stream: true, ignore_eos: true }));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = (await res.text()).split('\n\n').filter(Boolean);
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as Completion);
  assert.equal(chunks.length, 5);
  assert.ok(chunks.every((c) => c.object === 'text_completion' && c.id === chunks[0]!.id));
  assert.deepEqual(chunks.map((c) => c.choices[0]!.finish_reason), [null, null, null, null, 'length']);
  assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
});

test('/_health answers while the engine is busy with a long completion; /docs is served', async () => {
  let finished = false;
  const long = fetch(`${url}/v1/completions`, json({ prompt: 'The keeper', max_tokens: 300, ignore_eos: true })).then(async (r) => {
    finished = true;
    return (await r.json()) as Completion;
  });
  // Wait until the engine has really started (the web process counts it as pending).
  await waitFor(async () => ((await (await fetch(`${url}/_health`)).json()) as { ipc: { pending: number } }).ipc.pending > 0, 10_000, 'the completion to reach the engine');
  const health = await fetch(`${url}/_health`);
  assert.equal(health.status, 200);
  assert.equal(finished, false, 'the health check was answered before the completion finished');
  assert.equal((await fetch(`${url}/docs/`)).status, 200);
  assert.equal((await long).usage!.completion_tokens, 300);
});
