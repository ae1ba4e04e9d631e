import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Outbox } from '../js/outbox.js';
import { myNewRole } from '../js/room.js';

test('a held message is neither re-sent nor turned into a failure', () => {
  const o = new Outbox();
  o.add('1', 1, 'hello', 'c1');
  o.markSent('c1', 1000);
  o.markHeld('c1');
  assert.equal(o.get('c1').status, 'held');
  assert.deepEqual(o.unacked(), []);
  assert.deepEqual(o.stale(60_000, 15_000), []);
  o.markFailed('c1', { code: 'unavailable' });
  assert.equal(o.get('c1').status, 'held');
  assert.deepEqual(o.forRoom('1').map((e) => e.clientId), ['c1']);
});

test('my role follows the latest member_changed about me among new events', () => {
  const changed = (id, role) => ({ type: 'member_changed', seq: 1, user: { id, display_name: 'x' }, role });
  assert.equal(myNewRole([changed(2, 'reader')], 1), null);
  assert.equal(myNewRole([changed(1, 'reader')], 1), 'reader');
  assert.equal(myNewRole([changed('1', 'reader'), changed(1, 'member')], 1), 'member');
  assert.equal(myNewRole([{ type: 'message', seq: 2 }], 1), null);
  assert.equal(myNewRole([changed(1, 'reader')], null), null);
});
