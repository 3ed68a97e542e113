import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNEL_NAMES, publish, type EgressMessage } from './diagnostics.js';

test('the channel names observers subscribe to are stable', () => {
  assert.deepEqual(Object.values(CHANNEL_NAMES), ['appinfra:ingress', 'appinfra:rejected', 'appinfra:egress', 'appinfra:dispatch', 'appinfra:link', 'appinfra:batch', 'appinfra:queue-wait', 'appinfra:handoff']);
});

test('publish reaches a subscriber by name, and builds no message while no one listens', () => {
  let built = 0;
  const make = (): EgressMessage => {
    built++;
    return { id: 'a', replyTo: 'w', outcome: 'ok', status: 200, ms: 1 };
  };
  publish('egress', make);
  assert.equal(built, 0);
  const seen: unknown[] = [];
  const listener = (m: unknown): void => void seen.push(m);
  subscribe('appinfra:egress', listener);
  try {
    publish('egress', make);
  } finally {
    unsubscribe('appinfra:egress', listener);
  }
  assert.equal(built, 1);
  assert.deepEqual(seen, [{ id: 'a', replyTo: 'w', outcome: 'ok', status: 200, ms: 1 }]);
});
