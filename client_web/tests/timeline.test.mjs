import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayKey, dayLabel, dayStarts, firstUnreadSeq } from '../js/timeline.js';

// Days are the reader's: this whole file reads the clock as someone in New York would.
process.env.TZ = 'America/New_York';

const msg = (seq, ts, authorId = 2) => ({ type: 'message', seq, ts, author: { id: authorId, display_name: 'x' }, body: 'b' });

test('a day is the reader’s local calendar day, not UTC’s', () => {
  assert.equal(dayKey('2025-03-04T03:30:00Z'), '2025-03-03'); // 22:30 the evening before, in New York
  assert.equal(dayKey('2025-03-04T05:30:00Z'), '2025-03-04');
  assert.equal(dayKey(Date.parse('2025-03-04T05:30:00Z')), '2025-03-04');
  assert.equal(dayKey('not a time'), null);
  assert.equal(dayKey(null), null);
  assert.equal(dayKey(undefined), null);
});

test('a separator starts the first shown day and each new one; events without a time join the day before', () => {
  const events = [
    msg(1, '2025-03-03T14:00:00Z'),
    msg(2, '2025-03-04T03:59:00Z'), // still the 3rd in New York
    msg(3, '2025-03-04T05:01:00Z'), // the 4th
    { type: 'member_added', seq: 4 },
    msg(5, '2025-03-04T20:00:00Z'),
    msg(6, '2025-03-07T12:00:00Z'),
  ];
  assert.deepEqual([...dayStarts(events)], [
    [1, '2025-03-03'],
    [3, '2025-03-04'],
    [6, '2025-03-07'],
  ]);
  assert.deepEqual([...dayStarts([])], []);
  assert.deepEqual([...dayStarts(events.slice(1))], [[2, '2025-03-03'], [3, '2025-03-04'], [6, '2025-03-07']]);
});

test('day separators across a daylight saving change keep whole days', () => {
  // New York springs forward on 9 March 2025.
  const events = [msg(1, '2025-03-08T23:00:00-05:00'), msg(2, '2025-03-09T00:30:00-05:00'), msg(3, '2025-03-09T23:30:00-04:00')];
  assert.deepEqual([...dayStarts(events).keys()], [1, 2]);
});

test('day labels: today and yesterday in the reader’s language, otherwise the date with its weekday', () => {
  const now = new Date('2025-03-04T15:00:00Z'); // 10:00 on Tuesday 4 March in New York
  assert.equal(dayLabel('2025-03-04T05:00:00Z', now, 'en-GB'), 'Today');
  assert.equal(dayLabel('2025-03-04T03:00:00Z', now, 'en-GB'), 'Yesterday'); // 22:00 on the 3rd, locally
  assert.equal(dayLabel('2025-03-04T05:00:00Z', now, 'de'), 'Heute');
  assert.equal(dayLabel('2025-03-03T15:00:00Z', now, 'fr'), 'Hier');
  assert.equal(dayLabel('2025-03-01T15:00:00Z', now, 'en-GB'), 'Saturday 1 March');
  assert.equal(dayLabel('2025-03-01T15:00:00Z', now, 'en-US'), 'Saturday, March 1');
  assert.equal(dayLabel('2024-12-24T15:00:00Z', now, 'en-GB'), 'Tuesday, 24 December 2024');
  assert.equal(dayLabel('nonsense', now, 'en-GB'), '');
});

test('the "new since you were here" line goes before the first message by someone else after my read marker', () => {
  const me = 1;
  const events = [msg(1, 't', 2), msg(2, 't', me), { type: 'reaction', seq: 3 }, msg(4, 't', me), msg(5, 't', 3), msg(6, 't', 2)];
  assert.equal(firstUnreadSeq(events, 2, me), 5); // my own message and a reaction are not news to me
  assert.equal(firstUnreadSeq(events, 1, me), 5);
  assert.equal(firstUnreadSeq(events, 5, me), 6);
  assert.equal(firstUnreadSeq(events, 6, me), null); // all read
  assert.equal(firstUnreadSeq(events, 0, me), null); // never read: everything is new, no line
  assert.equal(firstUnreadSeq([], 3, me), null);
  assert.equal(firstUnreadSeq([msg(7, 't', '1')], 3, 1), null); // ids compare as strings
});
