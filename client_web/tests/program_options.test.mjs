// The console's program settings: which programs I manage, what a save asks
// the server to change, and when it must ask once more before erasing text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { erasingWarning, managedPrograms, optionChanges, retentionWords } from '../js/console/program_options.js';

const program = { id: 3, name: 'Evening IOP', alumni_post_in_cohort: false, hold_first_posts: 2, retention_days: null };
const form = (extra) => ({ alumni: false, hold: '2', retention: '', ...extra });

test('managers are admins (every program) and active staff of the program', () => {
  const staff = { ...program, enrollment: { role: 'staff', status: 'active' } };
  const withdrawn = { ...program, id: 4, enrollment: { role: 'staff', status: 'withdrawn' } };
  const participant = { ...program, id: 5, enrollment: { role: 'participant', status: 'active' } };
  const all = [staff, withdrawn, participant, { ...program, id: 6, enrollment: null }];
  assert.deepEqual(managedPrograms(all, { role: 'staff' }), [staff]);
  assert.equal(managedPrograms(all, { role: 'admin' }).length, 4);
  assert.deepEqual(managedPrograms(undefined, { role: 'admin' }), []);
});

test('a save sends only what changed; an empty retention field keeps messages (null)', () => {
  assert.deepEqual(optionChanges(program, form()), { changes: {}, error: null, erases: false });
  assert.deepEqual(optionChanges(program, form({ alumni: true, hold: ' 0 ' })).changes, { alumni_post_in_cohort: true, hold_first_posts: 0 });
  assert.deepEqual(optionChanges(program, form({ retention: '30' })), { changes: { retention_days: 30 }, error: null, erases: true });
  const kept = { ...program, retention_days: 30 };
  assert.deepEqual(optionChanges(kept, form({ retention: '  ' })), { changes: { retention_days: null }, error: null, erases: false });
  assert.deepEqual(optionChanges(kept, form({ retention: '90' })), { changes: { retention_days: 90 }, error: null, erases: false }); // longer: nothing more erased
  assert.equal(optionChanges(kept, form({ retention: '7' })).erases, true); // shorter: more is erased
});

test('numbers out of bounds or not whole are refused on the field, before any request', () => {
  for (const hold of ['', '-1', '21', '2.5', 'two']) assert.equal(optionChanges(program, form({ hold })).error.field, 'hold', hold);
  for (const retention of ['0', '3651', '1e3', '7 days', '١٢']) assert.equal(optionChanges(program, form({ retention })).error.field, 'retention', retention);
  assert.equal(optionChanges(program, form({ retention: '3650' })).error, null);
});

test('the words say what retention does, and the warning that it cannot be undone', () => {
  assert.match(retentionWords(null), /kept/);
  assert.match(retentionWords(30), /older than 30 days is erased for everyone/);
  assert.match(retentionWords(1), /older than 1 day is/);
  assert.match(erasingWarning(30), /older than 30 days.*cannot be brought back/);
});
