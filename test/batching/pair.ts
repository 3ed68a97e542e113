import { IPCChannel } from '../../src/channel/channel.js';
import { Engine } from '../../src/engine/engine.js';
import { PipeLink } from '../../src/ipc/transports/pipe.js';
import { codecByName } from '../../src/ipc/codecs/index.js';
import { socketPair } from '../helpers.js';

/** An engine and a web-side channel over a real Unix socket pair in `dir`, as a web process sees it. */
export async function enginePair(dir: string, engine = new Engine(), channelOptions = {}) {
  const { a, b, server } = await socketPair(dir);
  const web = new PipeLink(a, { codec: codecByName('json') });
  const eng = new PipeLink(b, { codec: codecByName('json') });
  engine.attach(eng, 'web-test');
  const channel = new IPCChannel({ maxPending: 1000, responseTimeout: 10, replyTo: 'web-test', ...channelOptions }, web);
  await channel.start();
  const close = async (): Promise<void> => {
    await channel.stop();
    web.close();
    eng.close();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { channel, engine, close };
}

/** A promise and the function that resolves it. */
export function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}
