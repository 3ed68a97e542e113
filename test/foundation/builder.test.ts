import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, ApiConfig, UvicornConfig, IPCConfig, Queue, BuildError, ConfigError, StateError } from '../../src/index.js';

const ok = async (): Promise<unknown> => ({ ok: true });

/** Runs `fn`, expects an AppinfraError of `cls`, returns its message. */
function failsWith(cls: typeof BuildError | typeof ConfigError, fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`expected ${cls.name}`);
}

test('every ServerBuilder setter lands in the built config; configurers return the parent with done()', () => {
  const builder = new ServerBuilder('b');
  assert.equal(builder.routes.done(), builder);
  assert.equal(builder.subprocess.done(), builder);
  assert.equal(builder.uvicorn.done(), builder);
  assert.equal(builder.http, builder.uvicorn);
  const server = builder
    .withHost('127.0.0.2').withPort(1234).withTitle('T').withDescription('D').withVersion('9.9.9').withTimeout(2.5)
    .uvicorn.withWorkers(1).withTimeoutKeepAlive(3).withLimitConcurrency(4).withLimitMaxRequests(5).withBacklog(6)
    .withLogLevel('info').withAccessLog().done()
    .build();
  const c = server.config;
  assert.deepEqual([c.host, c.port, c.title, c.description, c.version, c.responseTimeout], ['127.0.0.2', 1234, 'T', 'D', '9.9.9', 2.5]);
  assert.equal(server.ipcConfig.responseTimeout, 2.5, 'withTimeout is also the default deadline of ipc.submit');
  const u = c.uvicorn;
  assert.deepEqual([u.workers, u.timeoutKeepAlive, u.limitConcurrency, u.limitMaxRequests, u.backlog, u.logLevel, u.accessLog], [1, 3, 4, 5, 6, 'info', true]);
  assert.equal(server.name, 'b');
  assert.equal(server.isSubprocessMode, false);
  assert.equal(server.isRunning, false);
});

test('a configurer never resets values set earlier through withConfig', () => {
  const server = new ServerBuilder('keep')
    .withConfig(new ApiConfig({ title: 'Kept', port: 0, responseTimeout: 9, uvicorn: { backlog: 77, accessLog: true, timeout_keep_alive: 11 } }))
    .withVersion('2.0.0')
    .uvicorn.withLogLevel('debug').done()
    .subprocess.withConfig(new IPCConfig({ queueTimeout: 2, maxPending: 10 })).withMaxPending(20).withLogFile('/tmp/keep.log').done()
    .routes.withRoute('/x', ok).done()
    .build();
  const c = server.config;
  assert.equal(c.title, 'Kept');
  assert.equal(c.responseTimeout, 9);
  assert.equal(c.version, '2.0.0');
  assert.equal(c.logFile, '/tmp/keep.log');
  assert.equal(c.uvicorn.backlog, 77);
  assert.equal(c.uvicorn.accessLog, true);
  assert.equal(c.uvicorn.timeoutKeepAlive, 11);
  assert.equal(c.uvicorn.logLevel, 'debug');
  assert.equal(server.ipcConfig.queueTimeout, 2);
  assert.equal(server.ipcConfig.maxPending, 20);

  const uv = new ServerBuilder('uv').uvicorn.withConfig(new UvicornConfig({ backlog: 5, workers: 1 })).withAccessLog(true).done().build();
  assert.equal(uv.config.uvicorn.backlog, 5);
  assert.equal(uv.config.uvicorn.accessLog, true);
});

test('withConfig copies: changing the original afterwards does not change the server', () => {
  const cfg = new ApiConfig({ title: 'A' });
  const builder = new ServerBuilder('copy').withConfig(cfg);
  cfg.title = 'B';
  assert.equal(builder.build().config.title, 'A');
});

test('build() rejects a bad port with the key path and what to give', () => {
  const msg = failsWith(ConfigError, () => new ServerBuilder('p').withPort(70000).build());
  assert.match(msg, /api\.port: got 70000, expected a port number 0\.\.65535/);
  assert.match(failsWith(ConfigError, () => new ServerBuilder('p').withPort(1.5).build()), /api\.port: got 1\.5/);
  assert.match(failsWith(ConfigError, () => new ServerBuilder('p').uvicorn.withBacklog(-1).done().build()), /api\.uvicorn\.backlog: got -1, expected a positive integer/);
  assert.match(failsWith(ConfigError, () => new ServerBuilder('p').withTimeout(0).build()), /responseTimeout: got 0, expected a positive number of seconds/);
  assert.match(failsWith(ConfigError, () => new ServerBuilder('p').uvicorn.withLogLevel('loud' as never).done().build()), /logLevel: got "loud", expected one of/);
});

test('build() rejects an ssl key without a certificate', () => {
  const msg = failsWith(BuildError, () => new ServerBuilder('s').uvicorn.withConfig({ sslKeyfile: '/tmp/key.pem' }).done().build());
  assert.match(msg, /sslKeyfile and sslCertfile go together; set both with \.uvicorn\.withSsl\(key, cert\)/);
});

test('build() rejects a duplicate route, also when written in {name} and :name forms', () => {
  const msg = failsWith(BuildError, () =>
    new ServerBuilder('d').routes.withRoute('/a/{id}', ok).withRoute('/a/:id', ok, { methods: ['get'] }).done().build(),
  );
  assert.match(msg, /Route GET \/a\/:id is declared twice; remove one/);
  // Different methods on one path are fine.
  new ServerBuilder('d').routes.withRoute('/a', ok).withRoute('/a', ok, { methods: ['POST'] }).done().build();
});

test('build() rejects workers > 1 in direct mode, saying how to enable subprocess mode', () => {
  const msg = failsWith(BuildError, () => new ServerBuilder('w').uvicorn.withWorkers(2).done().build());
  assert.match(msg, /workers > 1 needs subprocess mode: call \.subprocess\.withIpc\(requestQ, responseQ\)/);
});

test('build() rejects inline closures in subprocess mode and says where to move them', () => {
  const queues = (): [Queue, Queue] => [new Queue(), new Queue()];
  const route = failsWith(BuildError, () => new ServerBuilder('c').routes.withRoute('/x', ok).done().subprocess.withIpc(...queues()).done().build());
  assert.match(route, /withRoute\("\/x"\) has an inline handler/);
  assert.match(route, /withForward\(path, \{ handler: "name" \}\)/);
  assert.match(route, /fromModule\(/);
  const router = failsWith(BuildError, () => new ServerBuilder('c').routes.withRouter(async () => undefined).done().subprocess.withIpc(...queues()).done().build());
  assert.match(router, /withRouter\(plugin\) was given a function/);
  const handler = failsWith(BuildError, () =>
    new ServerBuilder('c').routes.withExceptionHandler(Error, () => undefined).done().subprocess.withIpc(...queues()).done().build(),
  );
  assert.match(handler, /withExceptionHandler/);
  const mw = failsWith(BuildError, () => new ServerBuilder('c').routes.withMiddleware('onRequest', () => undefined).done().subprocess.withIpc(...queues()).done().build());
  assert.match(mw, /withMiddleware/);
});

test('route, middleware and CORS misuse fails at the call with a precise message', () => {
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withRoute('x', ok)), /must be a string starting with "\/"/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withRoute('/files/{p:path}', ok)), /"\{p:path\}" is not supported; end the path with "\*"/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withForward('/items/{id:int}', { handler: 'h' })), /"\{id:int\}" is not supported/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withRoute('/x', ok, { methods: ['FETCH'] })), /unknown HTTP method "FETCH"/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withRoute('/x', ok, { methods: [] })), /at least one HTTP method/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withRoute('/x', 'name' as never)), /handler must be a function/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withMiddleware('onWhatever' as never, () => undefined)), /unknown hook "onWhatever"/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withCors([])), /non-empty list of origin strings/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('r').routes.withCors(['*'], { allowCredentials: true })), /allowCredentials cannot be combined with origin "\*"/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('')), /name must be a non-empty string/);
  assert.match(failsWith(BuildError, () => new ServerBuilder('q').subprocess.withIpc({} as never, {} as never)), /two appinfra Queue objects/);
});

test('server.app before the app is built, or in subprocess mode, is a StateError that says what to do', () => {
  const direct = new ServerBuilder('app').build();
  assert.throws(() => direct.app, (err: Error) => err instanceof StateError && /await server\.ready\(\)/.test(err.message));
  const sub = new ServerBuilder('app').subprocess.withIpc(new Queue(), new Queue()).done().build();
  assert.equal(sub.isSubprocessMode, true);
  assert.throws(() => sub.app, (err: Error) => err instanceof StateError && /route module/.test(err.message));
  assert.equal(sub.ipc, null);
});
