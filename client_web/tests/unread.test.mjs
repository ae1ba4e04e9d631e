import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrivalAnnouncements } from '../js/announcements.js';
import { excerpt } from '../js/format.js';
import { applyLatestPage, applyLive, createRoom, isRemoved, removalReason } from '../js/room.js';
import { tombstoneText } from '../js/tombstone.js';
import { applyListing, applyRead, countIsOurs, firstPageSize, latestLine, unreadCount } from '../js/unread.js';

const ME = 1;
const ann = { id: ME, display_name: 'Ann' };
const ben = { id: 2, display_name: 'Ben' };
const m = (seq, author = ben, body = `m${seq}`) => ({ type: 'message', room: 5, seq, author, body, ts: '2025-01-01T00:00:00Z' });
const listed = (extra) => ({ id: 5, name: 'Group', last_seq: 10, last_read_seq: 6, unread: 3, latest: { seq: 10, author: ben, excerpt: 'ten', ts: 't' }, ...extra });

function roomFrom(meta) {
  const room = createRoom(meta);
  applyListing(room, meta);
  return room;
}

test('a room never opened shows the listing’s count and latest line', () => {
  const room = roomFrom(listed());
  assert.equal(unreadCount(room, ME), 3);
  assert.deepEqual(latestLine(room, ME, () => false), { who: 'Ben', text: 'ten', ts: 't', seq: 10, removed: false });
  assert.equal(latestLine(roomFrom(listed({ latest: null })), ME, () => false), null);
  assert.equal(unreadCount(roomFrom(listed({ unread: undefined })), ME), 0);
});

test('messages arriving after the listing add to it: others’ only, each once', () => {
  const room = roomFrom(listed());
  applyLatestPage(room, [m(8), m(9), m(10)], true); // already counted by the server
  assert.equal(unreadCount(room, ME), 3);
  applyLive(room, m(11));
  applyLive(room, m(11)); // the same event again
  applyLive(room, m(12, ann, 'mine')); // mine: not unread
  applyLive(room, { type: 'reaction', seq: 13, user: ben, target: 10, emoji: 'heart', on: true });
  assert.equal(unreadCount(room, ME), 4);
  assert.deepEqual(latestLine(room, ME, (ev) => isRemoved(room, ev)), { who: 'You', text: 'mine', ts: '2025-01-01T00:00:00Z', seq: 12, removed: false });
  applyLive(room, { type: 'redacted', seq: 14, target: 12 });
  assert.equal(latestLine(room, ME, (ev) => removalReason(room, ev)).text, tombstoneText('moderator'));
});

test('an erased latest message reads as its timeline tombstone, by why it was erased', () => {
  // from the listing: the server says why (`removed`), no excerpt
  const gone = (removed, author = ben) => roomFrom(listed({ latest: { seq: 10, author, excerpt: null, removed, ts: 't' } }));
  const line = (room) => latestLine(room, ME, (ev) => removalReason(room, ev));
  assert.deepEqual(line(gone('expired')), { who: 'Ben', text: tombstoneText('expired'), ts: 't', seq: 10, removed: true });
  assert.deepEqual(line(gone('deleted', { id: 2, display_name: 'deleted user' })), { who: 'deleted user', text: tombstoneText('deleted'), ts: 't', seq: 10, removed: true });
  assert.equal(line(gone(undefined)).text, tombstoneText('moderator')); // an older server: a moderator's
  assert.equal(line(gone('moderator')).text, 'Removed by a moderator');
  // live: a message we hold, erased by a `redacted` event with a reason, under a name loaded before
  const room = roomFrom(listed());
  applyLatestPage(room, [m(9), m(10)], true);
  applyLive(room, { type: 'redacted', seq: 11, target: 10, reason: 'deleted' });
  assert.deepEqual(line(room), { who: 'deleted user', text: tombstoneText('deleted'), ts: '2025-01-01T00:00:00Z', seq: 10, removed: true });
  const aged = roomFrom(listed());
  applyLatestPage(aged, [m(9), m(10)], true);
  applyLive(aged, { type: 'redacted', seq: 11, target: 10, reason: 'expired' });
  assert.equal(line(aged).text, 'Message erased after the program’s retention period');
  assert.equal(line(aged).who, 'Ben');
  // and from history, the stored copy saying why
  const stored = roomFrom(listed());
  applyLatestPage(stored, [m(9), { ...m(10), body: null, removed: 'expired' }], true);
  assert.equal(line(stored).text, tombstoneText('expired'));
});

test('moving my read marker: counted exactly when we hold what lies after it, else the listing is stale', () => {
  const room = roomFrom(listed());
  applyLatestPage(room, [m(9), m(10)], true); // we do not hold 7 and 8
  assert.equal(applyRead(room, 7), true);
  assert.equal(countIsOurs(room), false); // 8 is unknown to us: ask the server again
  assert.equal(applyRead(room, 7), false); // no move
  assert.equal(applyRead(room, 3), false); // never backwards
  assert.equal(applyRead(room, 8), true);
  assert.equal(countIsOurs(room), true);
  assert.equal(unreadCount(room, ME), 2); // 9 and 10
  applyRead(room, 10);
  assert.equal(unreadCount(room, ME), 0);
  applyLive(room, m(11));
  assert.equal(unreadCount(room, ME), 1);
});

test('a new listing replaces the old one without counting twice', () => {
  const room = roomFrom(listed());
  applyLatestPage(room, [m(10)], true);
  applyLive(room, m(11));
  applyListing(room, listed({ last_seq: 11, unread: 4 }));
  assert.equal(unreadCount(room, ME), 4);
  applyListing(room, listed({ last_seq: 11, last_read_seq: 2, unread: 9 })); // the marker never moves back
  assert.equal(room.lastReadSeq, 6);
});

test('the count stops at 999, as the server’s', () => {
  const room = roomFrom(listed({ unread: 999 }));
  applyLatestPage(room, [m(10)], true);
  applyLive(room, m(11));
  assert.equal(unreadCount(room, ME), 999);
});

test('the first page reaches back to my read marker when that is not too far', () => {
  const room = (lastRead, last) => ({ lastReadSeq: lastRead, serverLastSeq: last });
  assert.equal(firstPageSize(room(0, 500), 50, 200), 50); // never read: the latest page
  assert.equal(firstPageSize(room(480, 500), 50, 200), 50);
  assert.equal(firstPageSize(room(400, 500), 50, 200), 110);
  assert.equal(firstPageSize(room(10, 500), 50, 200), 200);
});

test('announcements: others’ messages, removals, and reactions to my messages', () => {
  const room = createRoom({ id: 5, name: 'Group' });
  applyLatestPage(room, [m(1, ann, 'my news')], false);
  const events = [m(2, ben, 'hello'), m(3, ann, 'me again'), { type: 'reaction', seq: 4, user: ben, target: 1, emoji: 'hug', on: true }];
  for (const ev of events) applyLive(room, ev);
  assert.deepEqual(arrivalAnnouncements(room, events, ME), ['Ben: hello', 'Ben reacted to your message: Hug.']);
  const mineToMine = { type: 'reaction', seq: 5, user: ann, target: 1, emoji: 'hug', on: true };
  const off = { type: 'reaction', seq: 6, user: ben, target: 1, emoji: 'hug', on: false };
  const toBen = { type: 'reaction', seq: 7, user: ann, target: 2, emoji: 'hug', on: true };
  assert.deepEqual(arrivalAnnouncements(room, [mineToMine, off, toBen], ME), []);
  const many = [m(8), m(9), m(10), m(11)];
  assert.deepEqual(arrivalAnnouncements(room, many, ME), ['4 new messages in Group.']);
  assert.deepEqual(arrivalAnnouncements(room, [{ type: 'redacted', seq: 12, target: 2 }], ME), ['A message was removed by a moderator.']);
  // an account deletion erasing several is said once; retention's hourly sweep is not news
  const deleted = (seq, target) => ({ type: 'redacted', seq, target, reason: 'deleted' });
  assert.deepEqual(arrivalAnnouncements(room, [deleted(13, 3), deleted(14, 4)], ME), ['A message was erased: its writer deleted their account.']);
  assert.deepEqual(arrivalAnnouncements(room, [{ type: 'redacted', seq: 15, target: 5, reason: 'expired' }], ME), []);
});

test('a reply quotes the first 140 characters, counted as the server counts them', () => {
  assert.equal(excerpt('short'), 'short');
  assert.equal(excerpt('x'.repeat(200)).length, 140);
  const emoji = '💪'.repeat(150);
  assert.equal(Array.from(excerpt(emoji)).length, 140); // characters, not UTF-16 units
  assert.equal(excerpt(null), '');
});
