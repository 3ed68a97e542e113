import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiConfig, UvicornConfig, IPCConfig, loadConfigFile, configFromObject, ConfigError, ServerBuilder } from '../../src/index.js';
import { guardLeaks } from '../helpers.js';

const dir = guardLeaks({ tmp: 'appinfra-config-' });

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Runs `fn`, expects a ConfigError, returns its message. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'APPINFRA_ERR_CONFIG');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

test('defaults are the seed\'s (host is 127.0.0.1 for safety) plus the grown fields', () => {
  const api = new ApiConfig();
  assert.deepEqual(
    { ...api.toJSON(), uvicorn: undefined },
    {
      host: '127.0.0.1', port: 8000, title: 'API Server', description: '', version: '0.1.0', responseTimeout: 60,
      logFile: null, autoRestart: true, restartDelay: 1.0, maxRestarts: 5, uvicorn: undefined,
      // Ingress policies: off, and Fastify's 1 MiB body limit stated.
      rateLimit: null, auth: null, maxPayloadBytes: 1048576,
      metrics: { enabled: false, path: '/metrics' }, statusPage: { enabled: false, path: '/_status', token: null }, tracing: { setup: null },
    },
  );
  const seedUvicorn = {
    workers: 1, timeoutKeepAlive: 5, limitConcurrency: null, limitMaxRequests: null, backlog: 2048,
    logLevel: 'warning', accessLog: false, sslKeyfile: null, sslCertfile: null,
  };
  const uv = new UvicornConfig().toJSON() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(seedUvicorn)) assert.equal(uv[key], value, `uvicorn.${key}`);
  assert.deepEqual(api.uvicorn.toJSON(), new UvicornConfig().toJSON());
  const ipc = new IPCConfig();
  assert.equal(ipc.pollInterval, 0.01);
  assert.equal(ipc.queueTimeout, 0.01);
  assert.equal(ipc.maxPending, 100);
  assert.equal(ipc.responseTimeout, 60);
  assert.equal(ipc.enableHealthReporting, true);
});

test('constructors accept snake_case and camelCase keys', () => {
  const api = new ApiConfig({ response_timeout: 3, log_file: '/tmp/x.log', uvicorn: { timeout_keep_alive: 9, access_log: true } });
  assert.equal(api.responseTimeout, 3);
  assert.equal(api.logFile, '/tmp/x.log');
  assert.equal(api.uvicorn.timeoutKeepAlive, 9);
  assert.equal(api.uvicorn.accessLog, true);
  assert.equal(new IPCConfig({ max_pending: 7 }).maxPending, 7);
  assert.equal(new UvicornConfig({ limitConcurrency: 4 }).limitConcurrency, 4);
});

test('a wrong value names the key path, the value and what was expected', () => {
  const msg = configError(() => new ApiConfig({ port: 70000 }));
  assert.match(msg, /api\.port: got 70000, expected a port number 0\.\.65535/);
  const uv = configError(() => new ApiConfig({ uvicorn: { log_level: 'loud' } }));
  // The key is shown as the user wrote it (snake_case).
  assert.match(uv, /api\.uvicorn\.log_level: got "loud", expected one of critical, error, warning/);
  const ipc = configError(() => new IPCConfig({ maxPending: 'many' } as never));
  assert.match(ipc, /ipc\.maxPending: got "many", expected a positive integer/);
});

test('an unknown key is an error naming its path and the known keys', () => {
  const msg = configError(() => new ApiConfig({ prot: 1 } as never));
  assert.match(msg, /api\.prot: unknown key; known keys are host, port/);
  const nested = configError(() => new ApiConfig({ uvicorn: { worker: 2 } }));
  assert.match(nested, /api\.uvicorn\.worker: unknown key/);
});

test('the same key given as snake_case and camelCase is refused', () => {
  assert.match(configError(() => new IPCConfig({ max_pending: 1, maxPending: 2 } as never)), /ipc\.maxPending: given twice/);
});

test('a good YAML file loads all three sections, snake_case and camelCase mixed', () => {
  const p = file('good.yaml', [
    'api:',
    '  host: 0.0.0.0',
    '  port: 9001',
    '  title: From File',
    '  response_timeout: 12.5',
    '  max_restarts: 0',
    'uvicorn:',
    '  workers: 2',
    '  timeout_keep_alive: 7',
    '  limitConcurrency: 10',
    '  log_level: info',
    'ipc:',
    '  max_pending: 250',
    '  enable_health_reporting: false',
    '',
  ].join('\n'));
  const { api, ipc, rest } = loadConfigFile(p);
  assert.equal(api.host, '0.0.0.0');
  assert.equal(api.port, 9001);
  assert.equal(api.title, 'From File');
  assert.equal(api.responseTimeout, 12.5);
  assert.equal(api.maxRestarts, 0);
  assert.equal(api.uvicorn.workers, 2);
  assert.equal(api.uvicorn.timeoutKeepAlive, 7);
  assert.equal(api.uvicorn.limitConcurrency, 10);
  assert.equal(api.uvicorn.logLevel, 'info');
  assert.equal(ipc.maxPending, 250);
  assert.equal(ipc.enableHealthReporting, false);
  assert.deepEqual(rest, {});
});

test('uvicorn may sit under api:; an empty file gives the defaults', () => {
  const { api } = loadConfigFile(file('nested.yaml', 'api:\n  uvicorn:\n    backlog: 64\n'));
  assert.equal(api.uvicorn.backlog, 64);
  const empty = loadConfigFile(file('empty.yaml', ''));
  assert.equal(empty.api.port, 8000);
  // Empty sections (null in YAML) mean the defaults.
  const bare = loadConfigFile(file('bare.yaml', 'api:\n  uvicorn:\nipc:\n'));
  assert.equal(bare.api.uvicorn.backlog, 2048);
  assert.equal(bare.ipc.maxPending, 100);
});

test('bad files: each error names the file, the key path, the value and the expectation', () => {
  const wrongType = configError(() => loadConfigFile(file('type.yaml', 'api:\n  port: "eighty"\n')));
  assert.ok(wrongType.startsWith(join(dir, 'type.yaml')), wrongType);
  assert.match(wrongType, /api\.port: got "eighty", expected a port number/);

  const unknown = configError(() => loadConfigFile(file('unknown.yaml', 'uvicorn:\n  timeout_keepalive: 5\n')));
  assert.match(unknown, /uvicorn\.timeout_keepalive: unknown key/);

  const section = configError(() => loadConfigFile(file('section.yaml', 'apis:\n  port: 1\n')));
  assert.match(section, /apis: unknown section; known sections are api, uvicorn, ipc/);

  const both = configError(() => loadConfigFile(file('both.yaml', 'api:\n  uvicorn: {}\nuvicorn:\n  workers: 1\n')));
  assert.match(both, /given both at top level and under api\.uvicorn/);

  const notMap = configError(() => loadConfigFile(file('list.yaml', 'ipc: [1, 2]\n')));
  assert.match(notMap, /ipc: got \[1,2\], expected a mapping/);

  const uvScalar = configError(() => loadConfigFile(file('uvscalar.yaml', 'api:\n  uvicorn: 5\n')));
  assert.match(uvScalar, /api\.uvicorn: got 5, expected a mapping of uvicorn settings/);

  const ipcBad = configError(() => loadConfigFile(file('ipc.yaml', 'ipc:\n  codec: xml\n')));
  assert.match(ipcBad, /ipc\.codec: got "xml", expected one of json, msgpack, v8/);
});

test('a YAML syntax error names the line', () => {
  const p = file('syntax.yaml', 'api:\n  port: 8000\n  title: [unclosed\n');
  const msg = configError(() => loadConfigFile(p));
  assert.match(msg, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: not valid YAML`));
  const bad = file('compact.yaml', 'api:\n  port: 1\n  title: a: b\n');
  assert.match(configError(() => loadConfigFile(bad)), /compact\.yaml:3:\d+: not valid YAML/);
  const dup = file('dup.yaml', 'api:\n  port: 1\n  port: 2\n');
  assert.match(configError(() => loadConfigFile(dup)), /dup\.yaml:3:\d+: not valid YAML: Map keys must be unique/);
});

test('a missing file is a ConfigError naming the path', () => {
  assert.match(configError(() => loadConfigFile(join(dir, 'nope.yaml'))), /nope\.yaml: cannot read config file \(ENOENT\)/);
});

test('configFromObject leaves sections it was told about to their owners', () => {
  const { rest, api } = configFromObject({ api: { port: 1 }, routes: [{ path: '/x' }] }, ['routes']);
  assert.equal(api.port, 1);
  assert.deepEqual(rest, { routes: [{ path: '/x' }] });
});

test('a loaded file drives a real server: title in OpenAPI, keep-alive from uvicorn:, maxPending from ipc:', async () => {
  const { api, ipc } = loadConfigFile(file('serve.yaml', [
    'api:',
    '  port: 0',
    '  title: Served From YAML',
    '  version: 3.1.4',
    'uvicorn:',
    '  timeout_keep_alive: 3',
    'ipc:',
    '  max_pending: 7',
    '',
  ].join('\n')));
  const server = new ServerBuilder('yaml').withConfig(api).subprocess.withConfig(ipc).done().routes.withRoute('/x', async () => ({})).done().build();
  const { url } = await server.listen();
  try {
    const res = await fetch(`${url}/x`);
    assert.equal(res.headers.get('keep-alive'), 'timeout=3');
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { info: { title: string; version: string } };
    assert.deepEqual([doc.info.title, doc.info.version], ['Served From YAML', '3.1.4']);
    assert.equal(server.ipc?.maxPending, 7);
  } finally {
    await server.stop(1);
  }
});
