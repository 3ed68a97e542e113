import type { BackboneInit } from '../../contract/control.js';
import { codecByName } from '../../ipc/codecs/index.js';
import type { RedisBackboneOptions } from '../../ipc/transports/redis/options.js';

/** The options a web process builds its backbone link from (its `init` message, and the app's codec). */
export function webLinkOptions(init: BackboneInit, codec: string): RedisBackboneOptions {
  const o: RedisBackboneOptions = { url: init.url, prefix: init.prefix, secret: Buffer.from(init.secret, 'base64'), codec: codecByName(codec as 'json') };
  if (init.password !== undefined) o.password = init.password;
  if (init.maxLength !== undefined) o.maxLength = init.maxLength;
  return o;
}
