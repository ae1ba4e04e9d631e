import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldProblem, inviteProblemText, isInviteCode, registrationRefusal } from '../js/register_rules.js';

test('usernames follow the server rule (3–32 of a-z 0-9 . _ -, case-folded)', () => {
  for (const ok of ['pat', 'Pat.Smith', ' riley_2 ', 'a-b', 'x'.repeat(32)]) assert.equal(fieldProblem('username', ok), '', ok);
  for (const bad of ['', '  ', 'pa', '.pat', 'pat smith', 'păt', 'x'.repeat(33)]) assert.notEqual(fieldProblem('username', bad), '', bad);
});

test('passwords need 10 to 256 characters and not only spaces', () => {
  assert.equal(fieldProblem('password', 'ten chars!'), '');
  assert.match(fieldProblem('password', 'nine char'), /at least 10/);
  assert.match(fieldProblem('password', ' '.repeat(12)), /only spaces/);
  assert.match(fieldProblem('password', ''), /choose a password/);
  assert.match(fieldProblem('password', 'x'.repeat(257)), /at most 256/);
  assert.equal(fieldProblem('password', '🙂'.repeat(10)), ''); // characters, not UTF-16 units
});

test('display names are visible text of 1–64 characters; emoji joiners are fine', () => {
  assert.equal(fieldProblem('display_name', 'Riley'), '');
  assert.equal(fieldProblem('display_name', '👩‍👩‍👧 Jo'), '');
  assert.match(fieldProblem('display_name', '   '), /name others will see/);
  assert.match(fieldProblem('display_name', 'x'.repeat(65)), /at most 64/);
  assert.match(fieldProblem('display_name', 'evil\u202eeman'), /visible/);
  assert.match(fieldProblem('display_name', 'tab\there'), /visible/);
});

test('every invite code has its own kind wording; unknown codes read as an invalid link', () => {
  const codes = ['invite_invalid', 'invite_expired', 'invite_used', 'invite_revoked', 'invite_gone'];
  const texts = codes.map(inviteProblemText);
  assert.equal(new Set(texts).size, codes.length);
  assert.ok(codes.every(isInviteCode));
  assert.equal(isInviteCode('invalid'), false);
  assert.equal(inviteProblemText('something_else'), inviteProblemText('invite_invalid'));
  assert.match(inviteProblemText('invite_expired'), /expired/);
});

test('server refusals land on the field they name, the invite, or the whole form', () => {
  const err = (code, body = {}, extra = {}) => ({ code, body, ...extra });
  assert.deepEqual(registrationRefusal(err('invite_used', { field: 'invite' }), {}), { invite: 'invite_used' });
  assert.deepEqual(registrationRefusal(err('conflict', { field: 'username' }), {}).field, 'username');
  const bad = registrationRefusal(err('invalid', { field: 'password' }), { password: 'short' });
  assert.equal(bad.field, 'password');
  assert.match(bad.text, /at least 10/);
  assert.equal(registrationRefusal(err('invalid', { field: 'display_name' }), { display_name: 'Fine' }).text, 'Please check this and try again.');
  assert.equal(registrationRefusal(err('invalid', { field: 'invite' }), {}).field, undefined);
  assert.match(registrationRefusal(err('rate_limited', {}, { retryAfter: 3 }), {}).text, /3 seconds/);
  assert.match(registrationRefusal(err('network', null), {}).text, /Nothing was created/);
  assert.match(registrationRefusal(err('internal'), {}).text, /Nothing was created/);
});
