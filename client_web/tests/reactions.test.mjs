import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REACTIONS, foldReaction, isMine, newReactions, reactionSummary } from '../js/reactions.js';
import { applyBeforePage, applyLatestPage, applyLive, createRoom } from '../js/room.js';

const ann = { id: 1, display_name: 'Ann' };
const ben = { id: 2, display_name: 'Ben' };
const cy = { id: 3, display_name: 'Cy' };
const react = (seq, user, emoji, on, target = 10) => ({ type: 'reaction', room: 7, seq, user, target, emoji, on, ts: '2025-01-01T00:00:00Z' });
const counts = (state, target = 10, me = 1) => reactionSummary(state, target, me).map((r) => [r.key, r.count, r.mine]);

test('the five reactions, each with an emoji and a name', () => {
  assert.deepEqual(REACTIONS.map((r) => r.key), ['heart', 'clap', 'pray', 'hug', 'strong']);
  assert.deepEqual(REACTIONS.map((r) => r.emoji), ['❤️', '👏', '🙏', '🤗', '💪']);
  for (const r of REACTIONS) assert.ok(r.name.length > 0);
});

test('counts fold from on and off events; mine is known; order is the REACTIONS order', () => {
  const state = newReactions();
  for (const ev of [react(11, ben, 'hug', true), react(12, ann, 'heart', true), react(13, ben, 'heart', true), react(14, cy, 'heart', true)]) {
    assert.equal(foldReaction(state, ev), 10);
  }
  assert.deepEqual(counts(state), [['heart', 3, true], ['hug', 1, false]]);
  foldReaction(state, react(15, cy, 'heart', false));
  foldReaction(state, react(16, ben, 'hug', false));
  assert.deepEqual(counts(state), [['heart', 2, true]]);
  assert.deepEqual(reactionSummary(state, 10, 1)[0].people, ['Ben']); // who else; "you" is said apart
  assert.equal(isMine(state, 10, 'heart', 1), true);
  assert.equal(isMine(state, 10, 'heart', '1'), true);
  assert.equal(isMine(state, 10, 'hug', 1), false);
  assert.equal(isMine(state, 10, 'heart', null), false);
  assert.deepEqual(counts(state, 99), []);
});

test('any arrival order gives the same counts: the latest event per person, reaction and message wins', () => {
  const events = [react(11, ann, 'pray', true), react(12, ann, 'pray', false), react(13, ann, 'pray', true), react(14, ben, 'pray', true), react(15, ben, 'pray', false)];
  const orders = [events, [...events].reverse(), [events[2], events[0], events[4], events[1], events[3]]];
  for (const order of orders) {
    const state = newReactions();
    for (const ev of order) foldReaction(state, ev);
    assert.deepEqual(counts(state), [['pray', 1, true]]);
  }
  const state = newReactions();
  foldReaction(state, events[2]);
  assert.equal(foldReaction(state, events[1]), null); // older than what we know: no change
  assert.equal(foldReaction(state, events[2]), null); // the same event again
});

test('only well-formed reactions count', () => {
  const state = newReactions();
  for (const ev of [
    react(11, ann, 'thumbs_down', true),
    react(12, ann, 'heart', 'yes'),
    { ...react(13, ann, 'heart', true), target: 0 },
    { ...react(14, ann, 'heart', true), seq: -1 },
    { ...react(15, ann, 'heart', true), type: 'message' },
    null,
  ]) {
    assert.equal(foldReaction(state, ev), null);
  }
  assert.deepEqual(counts(state), []);
});

test('a room folds reactions from its history pages and live events alike', () => {
  const m = (seq) => ({ type: 'message', room: 7, seq, author: ann, body: `m${seq}`, ts: '2025-01-01T00:00:00Z' });
  const room = createRoom({ id: 7, last_seq: 20 });
  applyLatestPage(room, [react(18, ben, 'clap', false), react(19, cy, 'clap', true), m(20)], true);
  applyBeforePage(room, [m(10), react(16, ben, 'clap', true), react(17, ann, 'clap', true)], false);
  assert.deepEqual(counts(room.reactions), [['clap', 2, true]]); // Ben's later "off" wins over his older "on"
  applyLive(room, react(21, ann, 'clap', false));
  assert.deepEqual(counts(room.reactions), [['clap', 1, false]]);
});
