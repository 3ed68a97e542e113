/**
 * Tokens per second of /v1/completions with N concurrent streams: the figure continuous
 * batching moves. Each stream asks for the same number of tokens (ignore_eos), read as
 * SSE; the rate is all tokens received over the wall time from the first request to the
 * last [DONE].
 */
export interface Throughput {
  streams: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
}

export async function streamTokens(url: string, streams: number, maxTokens: number): Promise<Throughput> {
  const one = async (i: number): Promise<number> => {
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'The keeper', max_tokens: maxTokens, temperature: 0.7, seed: i, ignore_eos: true, stream: true }),
    });
    if (res.status !== 200) throw new Error(`/v1/completions answered ${res.status}: ${await res.text()}`);
    const text = await res.text();
    const tokens = text.split('\n\n').filter((e) => e.startsWith('data: {')).length;
    if (!text.includes('data: [DONE]')) throw new Error('a stream ended without [DONE]');
    return tokens;
  };
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: streams }, (_, i) => one(i)));
  const seconds = (performance.now() - t0) / 1000;
  const tokens = counts.reduce((a, b) => a + b, 0);
  return { streams, tokens, seconds, tokensPerSecond: tokens / seconds };
}
