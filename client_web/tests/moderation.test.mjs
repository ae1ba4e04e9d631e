// Pure parts of the chat client's moderation: slow mode, posting blocks, the
// words of private notices, personal mutes, flags, texting links, outbox states.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagError, flagWords } from '../js/flag_dialog.js';
import { friendlyError } from '../js/format.js';
import { cleanResources, mutedAnnouncement, rejectedText, warningNotice } from '../js/notices.js';
import { Outbox } from '../js/outbox.js';
import { muteIds } from '../js/personal_mutes.js';
import { blockText, postingBlock } from '../js/posting.js';
import { contactHref, textHref } from '../js/render.js';
import { createRoom } from '../js/room.js';
import { durationText, noteRefused, noteSent, slowLine, slowSeconds, waitSeconds } from '../js/slow_mode.js';
import { latestLine } from '../js/unread.js';
import { changeAnnouncement } from '../js/watch.js';

const NOW = Date.parse('2026-03-10T12:00:00');

function room(fields = {}) {
  return Object.assign(createRoom({ id: 7, name: 'Spring', kind: 'cohort', role: 'member' }), fields);
}

test('slow mode: the interval, the wait after a send or a refusal, moderators never wait', () => {
  const r = room({ state: { slow_seconds: 30 } });
  assert.equal(slowSeconds(r), 30);
  assert.equal(waitSeconds(r, NOW), 0);
  assert.equal(slowLine(r, NOW), 'Slow mode is on: one message every 30 seconds per person.');
  noteSent(r, NOW);
  assert.equal(waitSeconds(r, NOW), 30);
  assert.equal(waitSeconds(r, NOW + 29_001), 1);
  assert.equal(waitSeconds(r, NOW + 30_000), 0);
  assert.match(slowLine(r, NOW + 5_000), /you can send your next message in 25 seconds/);
  noteRefused(r, 12, NOW);
  assert.equal(waitSeconds(r, NOW), 12);
  noteRefused(r, undefined, NOW);
  assert.equal(waitSeconds(r, NOW), 30); // no retry_after: the room's interval
  const off = room({ state: { slow_seconds: 0 } });
  noteSent(off, NOW);
  assert.equal(waitSeconds(off, NOW), 0);
  assert.equal(slowLine(off, NOW), '');
  const mod = room({ role: 'moderator', state: { slow_seconds: 30 }, nextSendAt: NOW + 10_000 });
  assert.equal(slowSeconds(mod), 0);
  assert.equal(waitSeconds(mod, NOW), 0);
  assert.equal(slowSeconds(room({ state: null })), 0);
});

test('durations read as people say them', () => {
  const cases = [[0, '0 seconds'], [1, '1 second'], [45, '45 seconds'], [60, '1 minute'], [90, '1 minute 30 seconds'],
    [120, '2 minutes'], [3600, '1 hour'], [5400, '1 hour 30 minutes'], [7200, '2 hours']];
  for (const [s, words] of cases) assert.equal(durationText(s), words, String(s));
});

test('posting blocks: read-only, muted, locked, listening only; moderators are never muted or locked', () => {
  const until = NOW + 60 * 60 * 1000;
  assert.equal(postingBlock(room(), NOW), null);
  assert.deepEqual(postingBlock(room({ role: 'reader', mutedUntil: until }), NOW), { reason: 'read_only' });
  assert.deepEqual(postingBlock(room({ mutedUntil: until, mutedReason: 'Calm down' }), NOW), { reason: 'muted', until, why: 'Calm down' });
  assert.equal(postingBlock(room({ mutedUntil: NOW - 1 }), NOW), null); // over
  assert.deepEqual(postingBlock(room({ state: { locked: true } }), NOW), { reason: 'locked' });
  assert.equal(postingBlock(room({ role: 'moderator', state: { locked: true }, mutedUntil: until }), NOW), null);
  assert.deepEqual(postingBlock(room({ state: { locked: true }, mutedUntil: until }), NOW).reason, 'muted');
  assert.deepEqual(postingBlock(room({ observingUntil: until }), NOW), { reason: 'observing', until });
  const muted = blockText({ reason: 'muted', until, why: 'Take a breather' }, 'cohort', new Date(NOW));
  assert.match(muted, /^A moderator has paused your posting here until [0-9:]+(?: [AP]M)?\. The reason given: “Take a breather”\. You can still read/);
  assert.doesNotMatch(blockText({ reason: 'muted', until, why: null }, 'cohort', new Date(NOW)), /reason/);
  assert.match(blockText({ reason: 'locked' }, 'topic'), /locked this room for now, so only moderators can post/);
});

test('refusals say what happened and that nothing is lost', () => {
  assert.match(friendlyError('slow_mode', 12), /We will send it for you in 12 seconds\./);
  assert.match(friendlyError('slow_mode'), /Slow mode is on here/);
  assert.match(friendlyError('muted', 300, '2099-01-01T10:00:00Z'), /^A moderator has paused your posting here until .*It is kept here for you\.$/);
  assert.match(friendlyError('muted'), /paused your posting here for now/);
  assert.match(friendlyError('locked'), /locked this room for now/);
});

test('private notices are calm and carry the reason only as given', () => {
  const now = new Date(NOW);
  const w = warningNotice({ program: 1, reason: 'Personal attacks', expires_at: new Date(NOW + 3 * 3600e3).toISOString(), muted_until: null }, now);
  assert.equal(w.title, 'A message from your moderators');
  assert.match(w.text, /^A moderator has sent you a warning\. The reason given: “Personal attacks”\. It stays on your record until [0-9:]+(?: [AP]M)?, then it is gone\./);
  assert.doesNotMatch(w.text, /cannot post/);
  const m = warningNotice({ reason: '', expires_at: null, muted_until: new Date(NOW + 3600e3).toISOString() }, now);
  assert.match(m.text, /You cannot post in your program’s rooms until [0-9:]+(?: [AP]M)?; you can still read everything\./);
  assert.doesNotMatch(m.text, /reason/);
  assert.match(mutedAnnouncement('Spring', new Date(NOW + 3600e3).toISOString(), 'Too much', now), /^A moderator has paused your posting in Spring until [0-9:]+(?: [AP]M)?\. The reason given: “Too much”\./);
  assert.match(rejectedText('Names a person'), /did not approve this message, so nobody else saw it\. The reason given: “Names a person”\. Your words are still here/);
  assert.doesNotMatch(rejectedText(null), /reason/);
  assert.deepEqual(cleanResources([{ name: '988', contact: 'x' }, null, { contact: 'no name' }, 'x', { name: ' ' }]), [{ name: '988', contact: 'x' }]);
  assert.deepEqual(cleanResources(undefined), []);
});

test('contacts that can be texted get an sms: link; others do not', () => {
  assert.equal(textHref('Text HOME to 741741'), 'sms:741741?body=HOME');
  assert.equal(textHref('Call or text 988'), 'sms:988');
  assert.equal(textHref('text 988'), 'sms:988');
  assert.equal(textHref('Call 911'), null);
  assert.equal(textHref('1-800-662-4357'), null);
  assert.equal(textHref('Text <b> to 741741'), null);
  assert.equal(textHref('javascript:alert(1)'), null);
  assert.equal(contactHref('Text HOME to 741741'), null);
});

test('personal mutes: the ids of any answer shape', () => {
  assert.deepEqual([...muteIds({ mutes: [{ user: { id: 3, display_name: 'Ria' } }, { user: 4 }, { id: 5 }, 6] })], ['3', '4', '5', '6']);
  assert.deepEqual([...muteIds([{ user: { id: 1 } }])], ['1']);
  assert.deepEqual([...muteIds(null)], []);
  assert.deepEqual([...muteIds({ mutes: [null, {}, ''] })], []);
});

test('a muted person’s latest line keeps its words to itself', () => {
  const r = room();
  r.events.set(3, { type: 'message', seq: 3, author: { id: 9, display_name: 'Ria' }, body: 'something', ts: 't' });
  assert.equal(latestLine(r, 1, () => false).text, 'something');
  const folded = latestLine(r, 1, () => false, (id) => String(id) === '9');
  assert.equal(folded.who, 'A person you muted');
  assert.doesNotMatch(JSON.stringify(folded), /something|Ria/);
});

test('flags: words for a report and a worry; the writer is never told who', () => {
  const report = flagWords('report', 'Ria');
  assert.equal(report.required, true);
  assert.match(report.intro, /Ria is not told who reported it\./);
  const worry = flagWords('concern', 'Ria');
  assert.equal(worry.required, false);
  assert.match(worry.intro, /told privately.*Ria is not told who raised it\./);
  assert.match(flagError({ status: 409, code: 'conflict' }), /no longer there/);
  assert.match(flagError({ status: 404, code: 'not_found' }), /no longer there/);
  assert.match(flagError({ status: 0, code: 'network' }), /cannot reach/);
});

test('a held message not approved is kept to edit; the newest held one carries the support card', () => {
  const o = new Outbox();
  o.add('7', 7, 'first', 'a');
  o.add('7', 7, 'second', 'b');
  o.entries.get('b').createdAt += 1;
  assert.equal(o.newestHeld('7').clientId, 'b'); // no answer yet: it may be held
  o.markAcked('b', 3);
  assert.equal(o.newestHeld('7').clientId, 'a');
  o.get('b').status = 'sending';
  o.markHeld('a');
  o.markHeld('b');
  assert.equal(o.newestHeld('7').clientId, 'b');
  o.markRejected('b', 'Names a person');
  assert.deepEqual(o.get('b').error, { code: 'rejected', reason: 'Names a person' });
  assert.equal(o.newestHeld('7').clientId, 'a');
  o.markRejected('b', 'again'); // only a held one can be rejected
  assert.equal(o.get('b').error.reason, 'Names a person');
  assert.deepEqual(o.unacked(), []); // neither is sent again
});

test('lock and slow-mode changes are announced', () => {
  const base = { monitored: null, hold: false, locked: false, slow_seconds: 0 };
  assert.equal(changeAnnouncement(base, { ...base, locked: true }, 'Spring'), 'A moderator has locked Spring for now: only moderators can post.');
  assert.equal(changeAnnouncement({ ...base, locked: true }, base, 'Spring'), 'Spring is open for posting again.');
  assert.equal(changeAnnouncement(base, { ...base, slow_seconds: 60 }, 'Spring'), 'Slow mode is on: one message every 1 minute per person.');
  assert.equal(changeAnnouncement({ ...base, slow_seconds: 60 }, base, 'Spring'), 'Slow mode is off.');
  assert.equal(changeAnnouncement(base, base, 'Spring'), '');
});
