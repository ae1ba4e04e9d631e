// The console's queue: ordering (alerts first) and the frame reducer.
import assert from 'node:assert/strict';
import test from 'node:test';
import { alertCount, applyQueueFrame, createQueue, isAlert, loadQueue, openItems, sortQueue } from '../js/console/queue.js';

const item = (id, kind, extra = {}) => ({ id, kind, status: 'open', acknowledged: null, overdue: false, created_at: `2026-01-01T10:0${id % 10}:00Z`, ...extra });

test('alerts come first (overdue, then longest waiting), then reports, acknowledged crisis items, concerns, held', () => {
  const items = [
    item(1, 'held'),
    item(2, 'report'),
    item(3, 'crisis'),
    item(4, 'concern', { acknowledged: { by: 9, at: 'x' } }),
    item(5, 'crisis', { acknowledged: { by: 9, at: 'x' } }),
    item(6, 'report'),
    item(7, 'concern'),
    item(8, 'crisis', { overdue: true }),
  ];
  assert.deepEqual(sortQueue(items).map((i) => i.id), [8, 3, 7, 5, 6, 2, 4, 1]);
});

test('an unacknowledged crisis or concern is an alert; anything else is not', () => {
  assert.equal(isAlert(item(1, 'crisis')), true);
  assert.equal(isAlert(item(1, 'concern')), true);
  assert.equal(isAlert(item(1, 'report')), false);
  assert.equal(isAlert(item(1, 'crisis', { acknowledged: { by: 1, at: 'x' } })), false);
  assert.equal(isAlert(item(1, 'crisis', { status: 'resolved' })), false);
});

test('frames add and replace items; only a new or newly overdue alert asks to be announced', () => {
  const q = createQueue();
  loadQueue(q, [item(1, 'report'), null, { id: null }]);
  assert.equal(q.items.size, 1);
  let r = applyQueueFrame(q, { type: 'queue', item: item(2, 'crisis') });
  assert.equal(r.alert, false, 'the queue frame comes first and only updates the list');
  r = applyQueueFrame(q, { type: 'alert', item: item(2, 'crisis') });
  assert.equal(r.alert, true);
  assert.equal(alertCount(q), 1);
  r = applyQueueFrame(q, { type: 'alert', item: item(2, 'crisis') });
  assert.equal(r.alert, false, 'the same alert again (another process) is not announced twice');
  r = applyQueueFrame(q, { type: 'alert', item: item(2, 'crisis', { overdue: true }) });
  assert.equal(r.alert, true, 'escalation is announced');
  r = applyQueueFrame(q, { type: 'queue', item: item(2, 'crisis', { overdue: true, acknowledged: { by: 3, at: 'x' } }) });
  assert.equal(r.alert, false);
  assert.equal(alertCount(q), 0);
  r = applyQueueFrame(q, { type: 'queue', item: item(3, 'report') });
  assert.equal(r.alert, false);
  assert.deepEqual(openItems(q).map((i) => i.id), [2, 3, 1]);
  applyQueueFrame(q, { type: 'queue', item: item(1, 'report', { status: 'dismissed' }) });
  assert.deepEqual(openItems(q).map((i) => i.id), [2, 3]);
  assert.deepEqual(applyQueueFrame(q, { type: 'queue' }), { item: null, alert: false });
});

test('each kind of open item offers its actions; a closed one none', async () => {
  const { itemActions } = await import('../js/console/queue_view.js');
  const acts = (it) => itemActions(it).map(([act]) => act);
  const subject = { id: 2, display_name: 'Pat' };
  assert.deepEqual(acts(item(1, 'crisis', { subject, target_seq: 4, excerpt: 'text' })), ['ack', 'remove', 'mute', 'warn', 'resolve', 'dismiss', 'person']);
  assert.deepEqual(acts(item(1, 'report', { subject, target_seq: 4, excerpt: null })), ['mute', 'warn', 'resolve', 'dismiss', 'person'], 'no removing a tombstone');
  assert.deepEqual(acts(item(1, 'held', { subject, held_id: 3 })), ['approve', 'reject', 'person']);
  assert.deepEqual(acts(item(1, 'report', { status: 'resolved', subject })), []);
});
