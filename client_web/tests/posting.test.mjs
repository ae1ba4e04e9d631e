import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockText, isObserving, postingBlock, untilMs } from '../js/posting.js';
import { formatUntil, friendlyError } from '../js/format.js';

const NOW = new Date(2026, 4, 13, 10, 0); // Wednesday 13 May 2026, 10:00 local
const at = (days, hours, minutes = 0) => new Date(2026, 4, 13 + days, hours, minutes);
const hhmm = (d) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

test('until-times read in local time, from "today" to a date', () => {
  assert.equal(formatUntil(at(0, 15, 30).toISOString(), NOW), `until ${hhmm(at(0, 15, 30))}`);
  assert.equal(formatUntil(at(1, 9).toISOString(), NOW), `until tomorrow at ${hhmm(at(1, 9))}`);
  const weekday = at(3, 9).toLocaleDateString(undefined, { weekday: 'long' });
  assert.equal(formatUntil(at(3, 9).toISOString(), NOW), `until ${weekday} at ${hhmm(at(3, 9))}`);
  const date = at(7, 9).toLocaleDateString(undefined, { day: 'numeric', month: 'long' });
  assert.equal(formatUntil(at(7, 9).toISOString(), NOW), `until ${date} at ${hhmm(at(7, 9))}`);
  assert.equal(formatUntil('not a time', NOW), '');
  assert.equal(formatUntil(null, NOW), '');
});

test('a reader may not post; someone listening only may not until it ends', () => {
  const now = NOW.getTime();
  assert.equal(postingBlock({ role: 'member', observingUntil: null }, now), null);
  assert.deepEqual(postingBlock({ role: 'reader', observingUntil: null }, now), { reason: 'read_only' });
  const until = now + 60_000;
  assert.deepEqual(postingBlock({ role: 'moderator', observingUntil: until }, now), { reason: 'observing', until });
  assert.equal(postingBlock({ role: 'member', observingUntil: now - 1 }, now), null); // ended by itself
  assert.equal(isObserving({ observingUntil: null }, now), false);
});

test('what replaces the composer says why, kindly', () => {
  assert.match(blockText({ reason: 'read_only' }, 'cohort', NOW), /group’s conversation stays here/);
  assert.match(blockText({ reason: 'read_only' }, 'direct', NOW), /counsellor/);
  assert.equal(blockText({ reason: 'read_only' }, 'topic', NOW), 'You can read this room, but not post in it.');
  const until = at(0, 11).getTime();
  assert.equal(blockText({ reason: 'observing', until }, 'cohort', NOW), `You are listening only here until ${hhmm(at(0, 11))}. You will still see every message.`);
});

test('server times parse; refused sends say why', () => {
  assert.equal(untilMs('2026-05-13T10:00:00Z'), Date.UTC(2026, 4, 13, 10));
  assert.equal(untilMs(null), null);
  assert.equal(untilMs('garbage'), null);
  assert.match(friendlyError('read_only'), /read-only/);
  assert.match(friendlyError('observing'), /listen only/);
  assert.match(friendlyError('observing', undefined, at(0, 23).toISOString()), /listen only in this room until/);
});
