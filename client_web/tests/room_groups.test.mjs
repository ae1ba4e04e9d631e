// node --test client_web/tests/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupRooms, preferredRoom, sectionOf } from '../js/room_groups.js';

const room = (key, kind, role = 'member') => ({ key, name: key, kind, role });

test('rooms are grouped by what they are to me, in a fixed order, keeping the server order inside', () => {
  const groups = groupRooms([
    room('Mindfulness', 'topic'),
    room('Alumni', 'alumni'),
    room('Pat · counsellor', 'direct'),
    room('Spring', 'cohort', 'reader'),
    room('Nutrition', 'topic'),
    room('Odd', 'something-new'),
  ]);
  assert.deepEqual(
    groups.map((g) => [g.id, g.title, g.rooms.map((r) => r.key)]),
    [
      ['group', 'My group', ['Spring']],
      ['counsellor', 'My counsellor', ['Pat · counsellor']],
      ['topic', 'Topics', ['Mindfulness', 'Nutrition']],
      ['alumni', 'Alumni', ['Alumni']],
      ['other', 'Other rooms', ['Odd']],
    ],
  );
});

test('a counsellor sees the direct rooms they moderate as people they counsel; several cohorts read as Groups', () => {
  assert.equal(sectionOf(room('Pat · counsellor', 'direct', 'moderator')), 'counselling');
  assert.equal(sectionOf(room('Tuesday', 'group')), 'group');
  const groups = groupRooms([room('Spring', 'cohort', 'moderator'), room('Autumn', 'cohort', 'moderator'), room('Pat', 'direct', 'moderator')]);
  assert.deepEqual(groups.map((g) => g.title), ['Groups', 'People I counsel']);
  assert.deepEqual(groupRooms([]), []);
});

test('the room opened first is the first one I can post in', () => {
  const groups = groupRooms([room('Alumni', 'alumni'), room('Spring', 'cohort', 'reader')]);
  assert.equal(preferredRoom(groups).key, 'Alumni');
  assert.equal(preferredRoom(groupRooms([room('Spring', 'cohort', 'reader')])).key, 'Spring');
  assert.equal(preferredRoom([]), null);
});
