import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const WRK = process.env.WRK ?? '/usr/bin/wrk';

export interface WrkRun {
  requests: number;
  seconds: number;
  rps: number;
  /** Latencies in microseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  bytesPerResponse: number;
}

/** wrk's `done` hook prints one line of JSON with exact figures (latency in microseconds). */
const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_JSON {\\"requests\\":%d,\\"duration\\":%d,\\"bytes\\":%d,\\"p50\\":%d,\\"p90\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"errors\\":%d}\\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Writes the Lua scripts for a POST with a JSON body and for a plain GET into `dir`. */
export function writeScripts(dir: string, body: string): { post: string; get: string } {
  const post = join(dir, 'post.lua');
  const get = join(dir, 'get.lua');
  writeFileSync(post, `wrk.method = "POST"\nwrk.body = ${luaString(body)}\nwrk.headers["Content-Type"] = "application/json"\n${REPORT}`);
  writeFileSync(get, `wrk.method = "GET"\n${REPORT}`);
  return { post, get };
}

/** One wrk run: one thread, keep-alive, `conns` connections, `seconds` whole seconds. */
export async function wrk(url: string, script: string, conns: number, seconds: number): Promise<WrkRun> {
  const args = ['-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '-s', script, url];
  // Hard bound: wrk's own duration plus slack; a stuck wrk is killed, never left behind.
  const { stdout } = await run(WRK, args, { timeout: (seconds + 15) * 1000, killSignal: 'SIGKILL' });
  const line = /BENCH_JSON (\{.*\})/.exec(stdout);
  if (!line) throw new Error(`wrk printed no report:\n${stdout}`);
  const r = JSON.parse(line[1]!) as { requests: number; duration: number; bytes: number; p50: number; p90: number; p99: number; max: number; errors: number };
  const secs = r.duration / 1e6;
  return {
    requests: r.requests,
    seconds: secs,
    rps: r.requests / secs,
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    max: r.max,
    errors: r.errors,
    bytesPerResponse: r.requests > 0 ? r.bytes / r.requests : 0,
  };
}

export async function wrkVersion(): Promise<string> {
  // wrk -v prints its version and exits non-zero.
  try {
    const { stdout } = await run(WRK, ['-v']);
    return stdout.split('\n')[0]!.trim();
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? '').split('\n')[0]!.trim();
  }
}
