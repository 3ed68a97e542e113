import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORWARD_REPLY_MODES, PROTOCOLS, REPLY_MODES, bindablePorts, isReplyMode } from './protocols.js';

test('one row per reply mode, in the order the docs list them', () => {
  assert.deepEqual(REPLY_MODES, ['json', 'sse', 'websocket', 'kv_stream', 'graphql']);
  assert.deepEqual(FORWARD_REPLY_MODES, ['json', 'sse', 'websocket', 'kv_stream']);
  assert.ok(isReplyMode('sse'));
  assert.ok(!isReplyMode('toString'));
});

test('socket routes are the WebSocket ones, and answer GET only', () => {
  assert.deepEqual(REPLY_MODES.filter((m) => PROTOCOLS[m].socket), ['websocket', 'kv_stream']);
  for (const m of REPLY_MODES) if (PROTOCOLS[m].socket) assert.deepEqual(PROTOCOLS[m].defaultMethods, ['GET']);
  assert.deepEqual(PROTOCOLS.graphql.defaultMethods, ['GET', 'POST']);
});

test('each mode names the engine port its requests go to (seed 000 section 4)', () => {
  assert.deepEqual(Object.fromEntries(REPLY_MODES.map((m) => [m, PROTOCOLS[m].ports[0]])), { json: 'request', sse: 'stream', websocket: 'stream', kv_stream: 'kv_stream', graphql: 'request' });
  // Streaming modes are exactly those whose port is a stream port.
  for (const m of REPLY_MODES) assert.equal(PROTOCOLS[m].stream, PROTOCOLS[m].ports[0] !== 'request', m);
});

test('app-file kinds and the ports each interface kind may bind come from the table', () => {
  assert.deepEqual(Object.fromEntries(REPLY_MODES.map((m) => [m, PROTOCOLS[m].fileKind])), { json: 'http', sse: 'sse', websocket: 'websocket', kv_stream: 'kv_stream', graphql: null });
  assert.deepEqual(bindablePorts('http'), ['request', 'response', 'stream']);
  assert.deepEqual(bindablePorts('websocket'), ['stream', 'kv_stream']);
  assert.deepEqual(bindablePorts('graphql'), ['request', 'response', 'stream']);
});
