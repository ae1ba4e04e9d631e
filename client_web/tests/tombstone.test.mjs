// Tombstones: why a message was erased (a moderator, its writer's deleted
// account, the retention period), from the stored copy or the live event, and
// the words and names shown for each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLatestPage, applyLive, createRoom, removalReason } from '../js/room.js';
import { DELETED_NAME, quoteGoneText, tombstoneText, writerName } from '../js/tombstone.js';

const m = (seq, fields = {}) => ({ type: 'message', room: 1, seq, body: `b${seq}`, author: { id: 2, display_name: 'Pat' }, ts: 't', ...fields });

test('the reason comes with the stored copy or with the live redacted event; none is a moderator', () => {
  const room = createRoom({ id: 1 });
  applyLatestPage(room, [m(1), m(2, { body: null, removed: 'expired' }), m(3, { body: null }), m(4), m(5)], false);
  applyLive(room, { type: 'redacted', room: 1, seq: 6, target: 4, reason: 'deleted' });
  applyLive(room, { type: 'redacted', room: 1, seq: 7, target: 5 });
  const why = (seq) => removalReason(room, room.events.get(seq));
  assert.deepEqual([1, 2, 3, 4, 5].map(why), [null, 'expired', 'moderator', 'deleted', 'moderator']);
});

test('each reason has its own words, and a deleted writer is "deleted user"', () => {
  assert.equal(tombstoneText('moderator'), 'Removed by a moderator');
  assert.match(tombstoneText('deleted'), /deleted their account/);
  assert.match(tombstoneText('expired'), /retention period/);
  assert.equal(tombstoneText('something new'), 'Removed by a moderator');
  assert.equal(quoteGoneText(undefined), 'removed by a moderator');
  assert.equal(quoteGoneText('deleted'), 'message erased');
  assert.equal(writerName('Pat', 'deleted'), DELETED_NAME);
  assert.equal(writerName('Pat', 'expired'), 'Pat');
  assert.equal(writerName('Pat', null), 'Pat');
});
