import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, OverloadedError, AppinfraError, ListenError, StateError } from '../errors/index.js';
import { RawForward } from './request.js';

type Errors = typeof import('../errors/classes.js');
type Request = typeof import('./request.js');

// A second instance of each module, as a built web process holds once it loads a module of
// its own (the Redis link, a route module) beside its bundle.
const other = (await import(`../errors/classes.js?copy=${Date.now()}`)) as Errors;
const otherRequest = (await import(`./request.js?copy=${Date.now()}`)) as Request;

test('the two copies are distinct classes', () => {
  assert.notEqual(other.OverloadedError, OverloadedError);
  assert.notEqual(otherRequest.RawForward, RawForward);
});

test("an error made by either copy is an instance of the other's class of the same name, and of its parents", () => {
  const theirs = new other.OverloadedError('busy');
  assert.ok(theirs instanceof OverloadedError);
  assert.ok(theirs instanceof AppinfraError);
  assert.ok(new OverloadedError('busy') instanceof other.OverloadedError);
  assert.ok(new other.ListenError('127.0.0.1', 1, 'EADDRINUSE') instanceof StateError);
  assert.equal(theirs.name, 'OverloadedError');
});

test('a class of another name is not matched, whichever copy', () => {
  assert.ok(!(new other.EngineError(418, 'teapot') instanceof OverloadedError));
  assert.ok(!(new EngineError(418, 'teapot') instanceof other.OverloadedError));
  assert.ok(!(new StateError('x') instanceof ListenError));
  assert.ok(!(new Error('plain') instanceof AppinfraError));
  for (const [i, v] of [null, undefined, 1, 'OverloadedError', {}, Object.create(null), { constructor: OverloadedError }].entries()) assert.ok(!(v instanceof OverloadedError), `value #${i}`);
});

test("a user's subclass keeps the ordinary check: its parent's instances are not its own", () => {
  class Mine extends EngineError {}
  assert.ok(new Mine(500, 'x') instanceof Mine);
  assert.ok(new Mine(500, 'x') instanceof other.EngineError, 'still its parent, in either copy');
  assert.ok(!(new EngineError(500, 'x') instanceof Mine));
  assert.ok(!(new other.EngineError(500, 'x') instanceof Mine));
  assert.equal(new Mine(500, 'x').name, 'Mine');
});

test("a RawForward made by one copy is the other's RawForward; a plain request is not", () => {
  const raw = new otherRequest.RawForward({ id: 'a', method: 'POST', path: '/x', params: {}, query: {} }, '{"a":1}');
  assert.ok(raw instanceof RawForward);
  assert.ok(!({ id: 'a', body: '{"a":1}' } instanceof RawForward));
  assert.ok(!(new OverloadedError() instanceof RawForward));
});
