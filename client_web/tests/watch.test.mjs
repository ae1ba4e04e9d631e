import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeAnnouncement, holdText, unwatchedNotice, watchLine } from '../js/watch.js';

const RESOURCES = [{ name: '988 Lifeline', contact: 'Call or text 988', description: 'Any time.' }];
const state = (monitored, extra = {}) => ({ type: 'room_state', room: 1, monitored, on_duty: [], hold: false, ...extra });

test('only monitored: true reads as watched, with who is on duty', () => {
  assert.equal(watchLine(null), null);
  assert.deepEqual(watchLine(state(true, { on_duty: ['Kim'] })), { watched: true, text: 'Monitored now · Kim is on duty' });
  assert.equal(watchLine(state(true, { on_duty: ['Kim', 'Lee'] })).text, 'Monitored now · Kim and Lee are on duty');
  assert.equal(watchLine(state(true, { on_duty: ['A', 'B', 'C', 'D'] })).text, 'Monitored now · A, B and 2 others are on duty');
  assert.equal(watchLine(state(true)).text, 'Monitored now');
  assert.deepEqual(watchLine(state(false)), { watched: false, text: 'Not monitored right now' });
  assert.deepEqual(watchLine(state(null)), { watched: false, text: 'Not monitored' });
});

test('an unwatched room (false or null) gets the notice with the resources of its frame', () => {
  assert.equal(unwatchedNotice(state(true)), null);
  const off = unwatchedNotice(state(false, { resources: RESOURCES }));
  assert.equal(off.headline, 'No moderator is on duty right now');
  assert.deepEqual(off.resources, RESOURCES);
  const none = unwatchedNotice(state(null, { resources: [null, ...RESOURCES] }));
  assert.equal(none.headline, 'No moderator is watching this room');
  assert.deepEqual(none.resources, RESOURCES);
  assert.deepEqual(unwatchedNotice(state(null)).resources, []);
});

test('the hold line speaks to members and moderators differently', () => {
  assert.equal(holdText(state(false), 'member'), '');
  assert.match(holdText(state(false, { hold: true }), 'member'), /held for a moderator’s review/);
  assert.match(holdText(state(true, { hold: true }), 'moderator'), /^Members’ messages/);
});

test('changes are announced, the first state is not', () => {
  assert.equal(changeAnnouncement(null, state(false), 'Spring'), '');
  assert.equal(changeAnnouncement(state(false), state(true, { on_duty: ['Kim'] }), 'Spring'), 'A moderator is watching Spring now.');
  assert.match(changeAnnouncement(state(true), state(null), 'Spring'), /^No moderator is watching Spring right now/);
  assert.equal(changeAnnouncement(state(false), state(false, { hold: true }), 'Spring'), 'Messages are held for review for now.');
  assert.equal(changeAnnouncement(state(true), state(true, { on_duty: ['Lee'] }), 'Spring'), '');
});
