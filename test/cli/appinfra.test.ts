/** `appinfra check | routes | serve` run as real processes, on the example config and on broken ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPLY_MODES } from '../../src/contract/protocols.js';
import { guardLeaks, isAlive, waitFor } from '../helpers.js';
import { CLI, run, start, stop } from './proc.js';

const dir = guardLeaks({ tmp: 'appinfra-cli-' });

const EXAMPLE = 'examples/config/app.yaml';
const ENGINE = fileURLToPath(new URL('../../examples/config/engine.mjs', import.meta.url));
const appinfra = (...args: string[]) => run(CLI, args);

test('appinfra --help lists serve, check and routes; a missing file argument is a usage error', async () => {
  const help = await appinfra('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: appinfra \[options\] \[command\]/);
  assert.match(help.stdout, /serve \[options\] <file>\s+Build the server from the file/);
  assert.match(help.stdout, /check\|validate \[options\] <file>\s+Validate the file/);
  assert.match(help.stdout, /routes \[options\] <file>\s+Print the route table/);
  const missing = await appinfra('serve');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing required argument 'file'/);
});

test('check: the example is valid and the normalised contract fills in every default', async () => {
  const text = await appinfra('check', EXAMPLE);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^ok: examples\/config\/app\.yaml is valid\ncontract:\n/);
  const r = await appinfra('check', EXAMPLE, '--json');
  assert.equal(r.code, 0, r.stderr);
  const { ok, contract: c } = JSON.parse(r.stdout);
  assert.equal(ok, true);
  assert.equal(c.app, 'config-example');
  assert.equal(c.mode, 'subprocess');
  assert.deepEqual(
    { transport: c.execution_ipc.transport, codec: c.execution_ipc.codec, maxPending: c.execution_ipc.max_pending, payload: c.execution_ipc.max_payload_bytes, timeout: c.execution_ipc.response_timeout_s },
    { transport: 'pipe', codec: 'msgpack', maxPending: 200, payload: 1048576, timeout: 30 },
  );
  assert.deepEqual(c.process_groups, [
    { name: 'web', processes: 1, runs: 'framework code only (no user code)' },
    { name: 'cpu_sync', stages: ['core'], runs: 'engine (main process)' },
  ]);
  assert.deepEqual(c.web, { listen: '127.0.0.1:8000', interfaces: [{ kind: 'http', binds: ['request', 'response', 'stream'] }] });
  assert.deepEqual(c.engine.handlers, ['count', 'echo', 'hello']);
  assert.deepEqual(c.endpoints, [
    { route: 'POST /v1/echo', kind: 'http', port: 'request/response', handler: 'echo' },
    { route: 'GET /v1/hello/{name}', kind: 'http', port: 'request/response', handler: 'hello' },
    { route: 'POST /v1/count', kind: 'sse', port: 'stream', handler: 'count' },
  ]);
});

/** Each broken config and the exact problems `check` must name: key path, value, expectation. */
const BROKEN: [string, string[]][] = [
  ['unknown-key.yaml', ['endpoints[0].timout: unknown key; known keys are path, methods, kind, handler, schema, summary, description, tags, timeout, status, rate_limit, max_payload_bytes, auth']],
  [
    'bad-values.yaml',
    [
      'endpoints[0].path: got "v1/echo", expected a URL path starting with "/"',
      'endpoints[0].methods[0]: got "FETCH", expected an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)',
      'endpoints[0].kind: got "grpc", expected one of http, sse, websocket, kv_stream',
      'runtime.platform.execution_ipc.transport: got "carrier-pigeon", expected one of memory, pipe, tcp_local, redis',
      'api.port: got 70000, expected a port number 0..65535',
    ],
  ],
  ['missing-handler.yaml', ['endpoints[1].handler: got "summarise", expected the name of a function exported by ../engine.mjs (it exports count, echo, hello)']],
  [
    'contract.yaml',
    [
      'runtime.platform.process_groups[0].workers: got 4, expected nothing: without module and handlers "cpu_sync" runs in the engine (main) process; give it module: and handlers: to run it in 4 processes of its own',
      'runtime.platform.process_groups: got ["cpu_sync"], expected a group named "web" (the web processes)',
      'runtime.web.interfaces[0].binds: got ["request"], expected ports a websocket interface can bind (stream, kv_stream)',
      'endpoints[0].kind: got "http", expected a kind whose interface is declared in runtime.web.interfaces (declared: websocket; http needs http)',
      'endpoints[1].kind: got "sse", expected a kind whose interface is declared in runtime.web.interfaces (declared: websocket; sse needs http)',
    ],
  ],
  [
    'bad-schema.yaml',
    ['endpoints[0].schema.body: got a schema the validator cannot compile (data/type must be equal to one of the allowed values, data/type must be array, data/type must match a schema in anyOf), expected a JSON Schema (draft-07)'],
  ],
  ['no-module.yaml', ['engine.module: got "./nowhere.mjs", expected a module file relative to no-module.yaml']],
  [
    'many-sections.yaml',
    [
      'endpoints[1].path: got "v1/hello", expected a URL path starting with "/"',
      'api.prot: unknown key; known keys are host, port, title, description, version, responseTimeout, logFile, autoRestart, restartDelay, maxRestarts, uvicorn',
      'api.response_timeout: got -1, expected a positive number of seconds (deadline for the engine to answer an HTTP request)',
      'uvicorn.workers: got 0, expected a positive integer (number of web processes)',
      'ipc.codec: got "yaml", expected one of json, msgpack, v8',
      'endpoints[0].schema.body: got a schema the validator cannot compile (data/type must be equal to one of the allowed values, data/type must be array, data/type must match a schema in anyOf), expected a JSON Schema (draft-07)',
      'endpoints[2].handler: got "summarise", expected the name of a function exported by ../engine.mjs (it exports count, echo, hello)',
    ],
  ],
];

for (const [file, problems] of BROKEN) {
  test(`check and serve refuse broken/${file}, naming every problem`, async () => {
    const path = `examples/config/broken/${file}`;
    for (const tool of ['check', 'serve']) {
      const r = await appinfra(tool, path, ...(tool === 'serve' ? ['--port', '0'] : []));
      assert.equal(r.code, 1, `${tool}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /Invalid configuration:/);
      for (const p of problems) assert.ok(r.stderr.includes(`  - ${p}`), `${tool} ${file}: expected the line\n  - ${p}\nin\n${r.stderr}`);
      assert.equal(r.stderr.match(/\n {2}- /g)?.length, problems.length, `no other problems reported:\n${r.stderr}`);
      assert.doesNotMatch(r.stdout, /listening on/);
    }
  });
}

test('check: YAML syntax errors and unreadable files name the place', async () => {
  const bad = join(dir, 'syntax.yaml');
  writeFileSync(bad, 'engine:\n  module: [x\n');
  const r = await appinfra('check', bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /syntax\.yaml:\d+:\d+: not valid YAML/);
  // The place is shown, not only named: the offending line and a caret under the column.
  const fixture = await appinfra('check', 'examples/config/broken/not-yaml.yaml');
  assert.equal(fixture.code, 1);
  assert.match(fixture.stderr, /not-yaml\.yaml:3:11: not valid YAML: Nested mappings are not allowed in compact mappings\n/);
  assert.doesNotMatch(fixture.stderr, /column \d+:\s*$/m, 'no message may end in "column N:" with nothing after it');
  const lines = fixture.stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith('  3 | '));
  assert.equal(lines[at], '  3 |   module: ../engine.mjs: bad', fixture.stderr);
  assert.equal(lines[at - 1], '  2 | engine:', 'the line before gives context');
  assert.equal(lines[at + 1]!.indexOf('^'), lines[at]!.indexOf('../engine'), `the caret points at column 11:\n${fixture.stderr}`);
  assert.match(lines[at + 1]!, /^ {4}\| +\^$/);
  // An error at the end of the file (an unclosed list) still shows where.
  const eof = r.stderr.split('\n');
  assert.ok(eof.some((l) => /^ +\| +\^$/.test(l)), `a caret line:\n${r.stderr}`);
  const none = await appinfra('check', join(dir, 'nope.yaml'));
  assert.equal(none.code, 1);
  assert.match(none.stderr, /nope\.yaml: cannot read the app file \(ENOENT\)/);
});

test('routes prints the route table without importing the engine module; check imports it in its own process only', async () => {
  const marker = join(dir, 'imported.txt');
  writeFileSync(join(dir, 'engine.mjs'), `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marker)}, process.pid + '\\n');\nexport const shout = (req) => ({ text: String(req.body.text).toUpperCase() });\n`);
  writeFileSync(
    join(dir, 'routes.yaml'),
    'engine: { module: ./engine.mjs }\nendpoints:\n  - { path: /shout, methods: [post, PUT], handler: shout, timeout: 3 }\n  - { path: /stream, kind: sse, handler: shout }\n',
  );
  const r = await appinfra('routes', join(dir, 'routes.yaml'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'METHODS   PATH           KIND      PORT              HANDLER  TIMEOUT',
      'POST,PUT  /shout         http      request/response  shout    3s',
      'GET       /stream        sse       stream            shout    60s',
      'GET       /_health       built-in  -                 -        -',
      'GET       /docs          built-in  -                 -        -',
      'GET       /openapi.json  built-in  -                 -        -',
      '',
    ].join('\n'),
  );
  assert.equal(existsSync(marker), false, 'routes must not run user code');
  const json = await appinfra('routes', join(dir, 'routes.yaml'), '--json');
  assert.deepEqual(JSON.parse(json.stdout)[0], { methods: 'POST,PUT', path: '/shout', kind: 'http', port: 'request/response', handler: 'shout', timeout: '3s' });
  const c = start(CLI, ['check', join(dir, 'routes.yaml')]);
  assert.equal((await c.exited).code, 0);
  assert.deepEqual(readFileSync(marker, 'utf8').trim().split('\n'), [String(c.child.pid)]);
});

test('serve with the memory transport runs HTTP in the main process (direct mode)', async () => {
  writeFileSync(join(dir, 'direct-engine.mjs'), 'export const who = () => ({ pid: process.pid });\n');
  writeFileSync(
    join(dir, 'direct.yaml'),
    'engine: { module: ./direct-engine.mjs }\nendpoints: [{ path: /who, handler: who }]\nruntime: { platform: { execution_ipc: { transport: memory } } }\n',
  );
  const p = start(CLI, ['serve', join(dir, 'direct.yaml'), '--port', '0']);
  try {
    const [, url] = await p.waitForOutput(/listening on (\S+) \(direct mode, engine pid/);
    assert.match(p.stdout, /mode: direct/);
    assert.match(p.stdout, /runs: HTTP in the main process \(memory transport\)/);
    assert.deepEqual(await (await fetch(`${url}/who`)).json(), { pid: p.child.pid });
    assert.deepEqual(await stop(p, 'SIGINT'), { code: 130, signal: null });
  } finally {
    await stop(p, 'SIGKILL');
  }
});

test('serve prints the normalised contract, then serves; SIGTERM stops the web process and exits 143', async () => {
  const p = start(CLI, ['serve', EXAMPLE, '--port', '0']);
  try {
    const [, url, webPid] = await p.waitForOutput(/listening on (\S+) \(subprocess mode, web pid (\d+), engine pid \d+\)/);
    const summary = p.stdout.slice(0, p.stdout.indexOf('config-example listening'));
    assert.match(summary, /^contract:\n {2}app: config-example\n/);
    assert.match(summary, /transport: pipe\n\s+codec: msgpack/);
    assert.match(summary, /handlers:\n\s+- count\n\s+- echo\n\s+- hello/);
    const health = (await (await fetch(`${url}/_health`)).json()) as { status: string; pid: number };
    assert.equal(health.status, 'ok');
    assert.equal(health.pid, Number(webPid));
    assert.deepEqual(await stop(p, 'SIGTERM'), { code: 143, signal: null });
    await waitFor(() => !isAlive(Number(webPid)), 5000, 'web process to exit');
  } finally {
    await stop(p, 'SIGKILL');
  }
});

const websocketLanded = (REPLY_MODES as readonly string[]).includes('websocket');
test('websocket endpoints: accepted when the websocket reply mode exists, a clear error otherwise', async () => {
  writeFileSync(join(dir, 'ws-engine.mjs'), 'export async function* ticks(req) { for (let i = 1; i <= req.body.n; i++) yield { i }; }\n');
  writeFileSync(
    join(dir, 'ws.yaml'),
    'engine: { module: ./ws-engine.mjs }\nendpoints: [{ path: /ws, kind: websocket, handler: ticks }]\nruntime: { web: { interfaces: [{ kind: websocket, binds: [stream] }] } }\n',
  );
  const r = await appinfra('check', join(dir, 'ws.yaml'), '--json');
  if (websocketLanded) {
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).contract.endpoints, [{ route: 'GET /ws', kind: 'websocket', port: 'stream', handler: 'ticks' }]);
    // And served: one request frame, the engine's chunks back as frames, then the end.
    const p = start(CLI, ['serve', join(dir, 'ws.yaml'), '--port', '0']);
    try {
      const [, base] = await p.waitForOutput(/listening on (\S+)/);
      const { WebSocket } = await import('ws');
      const socket = new WebSocket(`${base!.replace(/^http/, 'ws')}/ws`);
      const frames: unknown[] = [];
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => socket.send(JSON.stringify({ type: 'request', id: 'a', data: { n: 2 } })));
        socket.on('message', (data) => {
          const frame = JSON.parse(String(data)) as { type: string };
          frames.push(frame);
          if (frame.type !== 'chunk') resolve();
        });
        socket.once('error', reject);
      });
      socket.close();
      await new Promise((resolve) => socket.once('close', resolve));
      assert.deepEqual(frames, [
        { type: 'chunk', id: 'a', data: { i: 1 } },
        { type: 'chunk', id: 'a', data: { i: 2 } },
        { type: 'end', id: 'a' },
      ]);
      assert.deepEqual(await stop(p, 'SIGTERM'), { code: 143, signal: null });
    } finally {
      await stop(p, 'SIGKILL');
    }
  } else {
    assert.equal(r.code, 1);
    assert.match(r.stderr, /endpoints\[0\]\.kind: got "websocket", expected a kind this version serves \(http, sse\); websocket is not supported yet/);
  }
  writeFileSync(join(dir, 'ws-post.yaml'), 'engine: { module: ./ws-engine.mjs }\nendpoints: [{ path: /ws, kind: websocket, methods: [POST], handler: ticks }]\n');
  const post = await appinfra('check', join(dir, 'ws-post.yaml'));
  assert.equal(post.code, 1);
  assert.match(post.stderr, /endpoints\[0\]\.methods: got \["POST"\], expected nothing \(or \[GET\]\): a websocket endpoint is a WebSocket upgrade/);
});

test('serve: SIGTERM with an idle WebSocket connected closes it with 1001 and exits without waiting out the drain', { skip: !websocketLanded }, async () => {
  writeFileSync(join(dir, 'ws-idle-engine.mjs'), 'export async function* ticks() { yield { i: 1 }; }\n');
  writeFileSync(
    join(dir, 'ws-idle.yaml'),
    'engine: { module: ./ws-idle-engine.mjs }\nendpoints: [{ path: /ws, kind: websocket, handler: ticks }]\nruntime: { web: { interfaces: [{ kind: websocket, binds: [stream] }] } }\n',
  );
  const p = start(CLI, ['serve', join(dir, 'ws-idle.yaml'), '--port', '0']);
  try {
    const [, base] = await p.waitForOutput(/listening on (\S+)/);
    const { WebSocket } = await import('ws');
    const socket = new WebSocket(`${base!.replace(/^http/, 'ws')}/ws`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const t0 = performance.now();
    // The default drain timeout is 5 s: an idle socket must not hold the stop for it.
    assert.deepEqual(await stop(p, 'SIGTERM'), { code: 143, signal: null });
    const ms = performance.now() - t0;
    assert.equal(await closed, 1001);
    assert.ok(ms < 3000, `serve took ${ms.toFixed(0)} ms to stop with an idle WebSocket`);
  } finally {
    await stop(p, 'SIGKILL');
  }
});

test('serve on a busy port tells the CLI user to pass --port (both modes)', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = String((busy.address() as AddressInfo).port);
  try {
    writeFileSync(join(dir, 'busy-direct.yaml'), `engine: { module: ${JSON.stringify(ENGINE)} }\nendpoints: [{ path: /v1/echo, methods: [POST], handler: echo }]\nruntime: { platform: { execution_ipc: { transport: memory } } }\n`);
    for (const file of [EXAMPLE, join(dir, 'busy-direct.yaml')]) {
      const r = await appinfra('serve', file, '--port', port);
      assert.equal(r.code, 1, `${file}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.includes(`cannot listen on 127.0.0.1:${port}: the port is in use`), `${file}:\n${r.stderr}`);
      assert.match(r.stderr, /choose another port with --port <n>, or --port 0 for a free one/);
      assert.doesNotMatch(r.stderr, /withPort/);
      assert.doesNotMatch(r.stdout, /listening on/);
    }
  } finally {
    await new Promise((resolve) => busy.close(resolve));
  }
});

test('serve logs restart delays as a person would write them (75 ms, not 0.07500000000000001s)', async () => {
  writeFileSync(join(dir, 'restart.yaml'), `engine: { module: ${JSON.stringify(ENGINE)} }\nendpoints: [{ path: /v1/echo, methods: [POST], handler: echo }]\napi: { restart_delay: 0.05 }\n`);
  const p = start(CLI, ['serve', join(dir, 'restart.yaml'), '--port', '0']);
  try {
    const [, url, first] = await p.waitForOutput(/listening on (\S+) \(subprocess mode, web pid (\d+)/);
    const webPid = async (): Promise<number | undefined> => {
      try {
        return ((await (await fetch(`${url}/_health`)).json()) as { pid?: number }).pid;
      } catch {
        return undefined;
      }
    };
    // Two crashes in a row: the second waits restart_delay x 1.5 = 0.05 x 1.5 seconds.
    process.kill(Number(first), 'SIGKILL');
    let second: number | undefined;
    await waitFor(async () => ((second = await webPid()) ?? Number(first)) !== Number(first), 10_000, 'the restarted web process');
    process.kill(second!, 'SIGKILL');
    await p.until(() => /restarting in 75 ms/.exec(p.stdout), 'the second restart log line', 10_000);
    assert.match(p.stdout, /restarting in 50 ms/);
    assert.doesNotMatch(p.stdout, /restarting in 0\.0\d*s/);
    assert.deepEqual(await stop(p, 'SIGTERM'), { code: 143, signal: null });
  } finally {
    await stop(p, 'SIGKILL');
  }
});
