/** Starts the demo server in a process of its own (so the measuring process is a free client) and stops it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface DemoProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `env`: DEMO_MODE=direct|subprocess, DEMO_BATCHING=off|on. */
export async function startDemo(env: Record<string, string>): Promise<DemoProcess> {
  const child = spawn(process.execPath, [...process.execArgv, MAIN, 'serve', '--port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`demo server exited (${code}) before listening`)));
    });
    return { url, child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
