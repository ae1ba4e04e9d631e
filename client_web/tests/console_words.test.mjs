// The console's wording and its audit filter.
import assert from 'node:assert/strict';
import test from 'node:test';
import { auditQuery, localToIso } from '../js/console/audit_query.js';
import { newSince, onlineText, recentMessages } from '../js/console/activity.js';
import * as W from '../js/console/words.js';
import { applyLatestPage, applyLive, createRoom } from '../js/room.js';

test('staff see real names and usernames; missing parts are left out', () => {
  assert.equal(W.staffName({ display_name: 'Pat', real_name: 'Patricia Doe', username: 'pat' }), 'Pat (Patricia Doe, @pat)');
  assert.equal(W.staffName({ display_name: 'Pat' }), 'Pat');
  assert.equal(W.staffName({ display_name: ' ', username: 'pat' }), 'pat (@pat)');
  assert.equal(W.staffName(null), 'Deleted user');
});

test('durations and slow mode read naturally', () => {
  assert.deepEqual(W.MUTE_CHOICES.map(W.durationText), ['10 minutes', '1 hour', '1 day', '1 week']);
  assert.equal(W.durationText(90), '90 minutes');
  assert.equal(W.durationText(2880), '2 days');
  assert.deepEqual(W.SLOW_CHOICES.map(W.slowText), ['Off', '10 seconds', '30 seconds', '1 minute', '5 minutes']);
});

test('a room state line', () => {
  assert.equal(W.roomStateText({ locked: true, slow_seconds: 30, hold: true, monitored: false }), 'Locked · Slow mode: 30 seconds · Holding messages for review · Not monitored now');
  assert.equal(W.roomStateText({ locked: false, slow_seconds: 0, hold: false, monitored: true, on_duty: ['Kim'] }), 'Monitored · on duty: Kim');
  assert.equal(W.roomStateText({ monitored: null }), 'No monitored hours');
  assert.equal(W.roomStateText(null), '');
});

test('queue items: heading, raisers, acknowledgement and the alert announcement', () => {
  const item = { kind: 'crisis', status: 'open', room_name: 'Spring', overdue: true, acknowledged: null, subject: { display_name: 'Pat' } };
  assert.equal(W.itemHeading(item), 'Crisis alert · Spring · overdue');
  assert.equal(W.itemHeading({ ...item, overdue: false, kind: 'report' }), 'Report · Spring');
  assert.equal(W.alertAnnouncement(item), 'Overdue: Crisis alert in Spring about Pat.');
  assert.equal(W.alertAnnouncement({ kind: 'concern', room_name: 'Spring' }), 'Concern raised in Spring.');
  assert.equal(W.raisedByText({ raised_by: [{ display_name: 'Ben', reason: 'spam' }, { display_name: 'Cy', reason: '' }] }), 'Ben: spam; Cy');
  assert.equal(W.raisedByText({}), '');
  assert.match(W.acknowledgedText({ acknowledged: { by: { display_name: 'Kim' }, at: '2026-01-01T10:00:00Z' } }), /^Acknowledged by Kim at \d?\d:\d\d/);
  assert.equal(W.acknowledgedText({ acknowledged: { by: 4 } }, (id) => (id === 4 ? 'Kim' : null)), 'Acknowledged by Kim');
  assert.equal(W.acknowledgedText({ acknowledged: null }), '');
});

test('audit lines name actor, action, target, room and reason; ids are looked up', () => {
  const names = (id) => ({ 1: 'Kim', 2: 'Pat' })[id] || null;
  assert.equal(W.auditLine({ actor: 1, action: 'message.remove', target_user: 2, target: 'seq 12', reason: 'spam' }, names), 'Kim · Removed a message · Pat · seq 12 · reason: spam');
  assert.equal(W.auditLine({ actor: null, action: 'custom.thing', target_user: 7 }, names), 'System · custom.thing · #7');
  assert.equal(W.auditLine({ actor: { display_name: 'Kim', username: 'kim' }, action: 'room.lock', room_name: 'Spring' }), 'Kim (@kim) · Locked a room · in Spring');
});

test('after a ban that withdrew an invite link, the moderator is told to give the group a new one', () => {
  const told = 'The invite link they joined with was withdrawn; give the rest of the group a new one.';
  assert.equal(W.banFollowUp({ enrollment: { status: 'banned' }, invites_revoked: ['aB3_x'] }), told);
  assert.match(W.banFollowUp({ invites_revoked: ['a', 'b'] }), /^The invite links they joined with were withdrawn;/);
  for (const answer of [{ invites_revoked: [] }, { enrollment: { status: 'banned' } }, { invites_revoked: 'a' }, null, undefined]) {
    assert.equal(W.banFollowUp(answer), '');
  }
});

test('the audit query carries only what was filled in, times in UTC', () => {
  assert.equal(auditQuery({ program: '3', actor: '', action: ' message.remove ' }), '?program=3&action=message.remove&limit=50');
  const iso = localToIso('2026-03-01T09:30');
  assert.equal(iso, new Date('2026-03-01T09:30').toISOString());
  assert.equal(auditQuery({ since: '2026-03-01T09:30', until: 'nonsense' }, { before: 40, limit: 10 }), `?since=${encodeURIComponent(iso)}&before=40&limit=10`);
  assert.equal(localToIso(''), null);
});

test('a watched room: recent messages with tombstones, what is new, who is online', () => {
  const m = (seq, body = `b${seq}`) => ({ type: 'message', room: 1, seq, body, author: { id: 2, display_name: 'Pat' }, ts: '2026-01-01T10:00:00Z' });
  const room = createRoom({ id: 1 });
  applyLatestPage(room, [m(1), m(2), { type: 'member_added', room: 1, seq: 3, user: { id: 2 } }], false);
  applyLive(room, m(4));
  applyLive(room, { type: 'redacted', room: 1, seq: 5, target: 2 });
  assert.deepEqual(recentMessages(room).map(({ ev, removed }) => [ev.seq, removed]), [[1, null], [2, 'moderator'], [4, null]]);
  assert.deepEqual(recentMessages(room, 1).map(({ ev }) => ev.seq), [4]);
  assert.equal(newSince(room, 1), 1);
  const known = new Map([['2', { display_name: 'Pat', real_name: 'Patricia Doe', username: 'pat' }]]);
  assert.equal(onlineText([{ id: 2, display_name: 'Pat' }, { id: 2, display_name: 'Pat' }, { id: 3, display_name: 'Kim' }], known), 'Online: Pat (Patricia Doe, @pat), Kim');
  assert.equal(onlineText([], known), 'Nobody online');
});
