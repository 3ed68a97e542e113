import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppBuilder, BuildError, EXIT, Plugin, type App, type Tool } from '../../src/index.js';
import { guardLeaks, waitFor } from '../helpers.js';
import { start, stop } from './proc.js';

const dir = guardLeaks({ tmp: 'appinfra-app-' });

const SIGNAL_APP = fileURLToPath(new URL('./fixtures/signal-app.ts', import.meta.url));

/** An app whose output is captured, for in-process runs. */
function capture(builder: AppBuilder): { out: () => string; err: () => string; builder: AppBuilder } {
  let out = '';
  let err = '';
  builder.withIO({ stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { out: () => out, err: () => err, builder };
}

function greeter(): AppBuilder {
  return new AppBuilder('greeter')
    .withDescription('Says hello to people')
    .withVersion('1.2.3')
    .tools.withCmd(
      'greet',
      (ctx) => {
        const who = ctx.args.who as string;
        ctx.print(ctx.options.loud ? `HELLO ${who.toUpperCase()}` : `hello ${who}`);
        ctx.log.debug('greeted');
      },
      {
        aliases: ['g', 'hi'],
        help: 'Greet someone by name',
        arguments: [{ name: 'who', help: 'whom to greet' }],
        options: [
          { flags: '--loud', help: 'shout' },
          {
            flags: '--times <n>',
            help: 'repeat',
            parse: (v) => {
              const n = Number(v);
              if (!Number.isInteger(n) || n < 1) throw new Error('expected a positive integer');
              return n;
            },
          },
        ],
      },
    )
    .withCmd('fail', () => {
      throw new Error('the tool broke');
    })
    .withCmd('code', () => 3, { help: 'Exit with code 3' })
    .withCmd('show-config', (ctx) => ctx.print(JSON.stringify(ctx.config)))
    .done();
}

test('a tool runs by its name and by each alias, with its arguments and options', async () => {
  const c = capture(greeter());
  const app = c.builder.build();
  assert.equal(await app.run(['greet', 'bob']), 0);
  assert.equal(await app.run(['g', 'amy', '--loud']), 0);
  assert.equal(await app.run(['hi', 'zoe']), 0);
  assert.equal(c.out(), 'hello bob\nHELLO AMY\nhello zoe\n');
});

test('exit codes: a tool’s number, 1 when it throws, 2 for usage errors', async () => {
  const c = capture(greeter());
  const app = c.builder.build();
  assert.equal(await app.run(['code']), 3);
  assert.equal(await app.run(['fail']), EXIT.ERROR);
  assert.match(c.err(), /fail failed: the tool broke/);
  assert.equal(await app.run(['nope']), EXIT.USAGE);
  assert.match(c.err(), /unknown command 'nope'/);
  assert.equal(await app.run(['greet']), EXIT.USAGE);
  assert.match(c.err(), /missing required argument 'who'/);
  assert.equal(await app.run(['greet', 'x', '--times', 'zero']), EXIT.USAGE);
  assert.match(c.err(), /--times <n>' argument 'zero' is invalid. expected a positive integer/);
  assert.equal(await app.run(['--log-level', 'loud', 'greet', 'x']), EXIT.USAGE);
  assert.match(c.err(), /--log-level <level>' argument 'loud' is invalid/);
  // No tool at all: the usage goes to stderr and the run is a usage error.
  const before = c.err().length;
  assert.equal(await app.run([]), EXIT.USAGE);
  assert.match(c.err().slice(before), /Usage: greeter \[options\] \[command\]/);
});

test('--help for the app lists every tool with its aliases and the standard options; --version prints it', async () => {
  const c = capture(greeter());
  const app = c.builder.build();
  assert.equal(await app.run(['--help']), 0);
  const help = c.out();
  assert.match(help, /Usage: greeter \[options\] \[command\]/);
  assert.match(help, /Says hello to people/);
  assert.match(help, /greet\|g \[options\] <who>\s+Greet someone by name/);
  assert.match(help, /code\s+Exit with code 3/);
  assert.match(help, /--log-level <level>/);
  assert.match(help, /--config <file>/);
  const mark = c.out().length;
  assert.equal(await app.run(['--version']), 0);
  assert.equal(c.out().slice(mark), '1.2.3\n');
});

test('--help for a tool shows its help, arguments, options and the standard options', async () => {
  const c = capture(greeter());
  const app = c.builder.build();
  assert.equal(await app.run(['g', '--help']), 0);
  const help = c.out();
  assert.match(help, /Usage: greeter greet\|g \[options\] <who>/);
  assert.match(help, /Greet someone by name/);
  assert.match(help, /who\s+whom to greet/);
  assert.match(help, /--loud\s+shout/);
  assert.match(help, /--times <n>\s+repeat/);
  assert.match(help, /Global Options:[\s\S]*--log-level <level>[\s\S]*--config <file>/);
});

test('--log-level filters the app log', async () => {
  const c = capture(greeter());
  const app = c.builder.build();
  await app.run(['greet', 'x']);
  assert.doesNotMatch(c.err(), /greeted/);
  await app.run(['greet', 'x', '--log-level', 'debug']);
  assert.match(c.err(), /\[greeter\] debug: greeted/);
});

test('withConfig gives tools their config; --config <file> replaces it; a bad file is a usage error', async () => {
  const c = capture(greeter().withConfig({ source: 'code', n: 1 }));
  const app = c.builder.build();
  await app.run(['show-config']);
  const file = join(dir, 'cfg.yaml');
  writeFileSync(file, 'source: file\nlist: [1, 2]\n');
  await app.run(['show-config', '--config', file]);
  assert.deepEqual(c.out().trim().split('\n').map((l) => JSON.parse(l)), [{ source: 'code', n: 1 }, { source: 'file', list: [1, 2] }]);
  assert.equal(await app.run(['show-config', '--config', join(dir, 'missing.yaml')]), EXIT.USAGE);
  assert.match(c.err(), /missing\.yaml: cannot read the config file \(ENOENT\)/);
  writeFileSync(join(dir, 'bad.yaml'), 'a: [1, 2\n');
  assert.equal(await app.run(['show-config', '--config', join(dir, 'bad.yaml')]), EXIT.USAGE);
  assert.match(c.err(), /bad\.yaml:\d+:\d+: not valid YAML/);
});

class Recorder extends Plugin {
  constructor(
    private readonly tag: string,
    private readonly log: string[],
    private readonly failInit = false,
  ) {
    super();
  }
  override get name(): string {
    return this.tag;
  }
  override configure(builder: AppBuilder): void {
    this.log.push(`configure ${this.tag}`);
    // A plugin may contribute a tool, as ServerPlugin does.
    if (this.tag === 'A') builder.tools.withCmd('from-a', () => void this.log.push('run from-a'));
  }
  override async initialize(app: App): Promise<void> {
    await Promise.resolve();
    if (this.failInit) throw new Error(`${this.tag} cannot start`);
    this.log.push(`initialize ${this.tag} (${app.name})`);
  }
  override async cleanup(): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    this.log.push(`cleanup ${this.tag}`);
  }
}

test('plugins: configure and initialize in order, the tool, then cleanup in reverse order', async () => {
  const log: string[] = [];
  const c = capture(
    new AppBuilder('plugged').tools
      .withPlugin(new Recorder('A', log))
      .withPlugin(new Recorder('B', log))
      .withPlugin(new Recorder('C', log))
      .withCmd('work', () => void log.push('run work'))
      .done(),
  );
  const app = c.builder.build();
  assert.deepEqual(log, ['configure A', 'configure B', 'configure C']);
  assert.equal(await app.run(['from-a']), 0);
  assert.deepEqual(log.slice(3), ['initialize A (plugged)', 'initialize B (plugged)', 'initialize C (plugged)', 'run from-a', 'cleanup C', 'cleanup B', 'cleanup A']);
  // --help parses only: no plugin starts.
  log.length = 0;
  assert.equal(await app.run(['--help']), 0);
  assert.deepEqual(log, []);
});

test('a plugin whose initialize fails: the tool does not run, only the plugins started before it are cleaned up', async () => {
  const log: string[] = [];
  const c = capture(
    new AppBuilder('plugged').tools
      .withPlugin(new Recorder('A', log))
      .withPlugin(new Recorder('B', log, true))
      .withPlugin(new Recorder('C', log))
      .withCmd('work', () => void log.push('run work'))
      .done(),
  );
  const app = c.builder.build();
  assert.equal(await app.run(['work']), EXIT.ERROR);
  assert.deepEqual(log.slice(3), ['initialize A (plugged)', 'cleanup A']);
  assert.match(c.err(), /plugin B: initialize failed: B cannot start/);
});

test('the builder refuses clashing names, bad names, a non-plugin and an app without tools', () => {
  const tool: Tool = { name: 'x', aliases: ['y'], run: () => 0 };
  assert.throws(() => new AppBuilder('a').tools.withTool(tool).withCmd('y', () => 0), (e: unknown) => e instanceof BuildError && /"y" is already used by tool "x"/.test(e.message));
  assert.throws(() => new AppBuilder('a').tools.withCmd('Bad Name', () => 0), /must be lowercase letters/);
  assert.throws(() => new AppBuilder('a').tools.withPlugin({} as Plugin), /a plugin has configure\(builder\)/);
  assert.throws(() => new AppBuilder('a').build(), /no tools/);
  assert.throws(() => new AppBuilder(''), /name must be a non-empty string/);
});

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`${signal} aborts the tool, runs cleanups in reverse order, and exits with ${code} (real process)`, async () => {
    const p = start(SIGNAL_APP, ['wait']);
    await p.waitForOutput(/ready/);
    const exit = await stop(p, signal);
    await p.closed;
    assert.deepEqual(exit, { code, signal: null });
    assert.deepEqual(p.stdout.trim().split('\n'), ['initialize A', 'initialize B', 'ready', 'tool saw abort', 'cleanup B', 'cleanup A']);
    assert.match(p.stderr, new RegExp(`${signal} received, stopping`));
  });
}

test('a tool that ignores the abort: a second signal stops waiting for it, cleanups still run (real process)', async () => {
  const p = start(SIGNAL_APP, ['stubborn']);
  await p.waitForOutput(/ready/);
  p.child.kill('SIGTERM');
  // The first signal is acknowledged, then the app waits for the tool.
  await waitFor(() => /SIGTERM received/.test(p.stderr), 10_000, 'first signal acknowledged');
  assert.equal(p.child.exitCode, null, 'still waiting for the tool after one signal');
  const exit = await stop(p, 'SIGTERM');
  await p.closed;
  assert.deepEqual(exit, { code: 143, signal: null });
  assert.deepEqual(p.stdout.trim().split('\n'), ['initialize A', 'initialize B', 'ready', 'cleanup B', 'cleanup A']);
  assert.match(p.stderr, /SIGTERM again: not waiting any longer/);
});
