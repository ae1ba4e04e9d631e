import assert from 'node:assert/strict';
import { test } from 'node:test';

import { passwordChangeError, passwordChanged, passwordFormProblem } from '../js/change_password.js';

test('the form asks for both passwords, the new one under the registration rules', () => {
  assert.deepEqual(passwordFormProblem('', 'a-long-new-password'), { field: 'current', text: 'Type your current password.' });
  assert.equal(passwordFormProblem('old', '').field, 'next');
  assert.equal(passwordFormProblem('old', 'short').field, 'next');
  assert.equal(passwordFormProblem('old', '            ').field, 'next');
  assert.equal(passwordFormProblem('old', 'a-long-new-password'), null);
});

test('a refusal names the field it is about', () => {
  const wrong = { code: 'forbidden', status: 403, body: { field: 'current_password' } };
  assert.equal(passwordChangeError(wrong).field, 'current');
  assert.equal(passwordChangeError({ code: 'invalid', status: 400, body: { field: 'new_password' } }).field, 'next');
  assert.match(passwordChangeError({ code: 'rate_limited', status: 429, body: {} }).text, /wait/);
  assert.equal(passwordChangeError({ code: 'network', status: 0, body: null }).field, null);
});

test('the note says how many other devices were signed out', () => {
  assert.equal(passwordChanged(0), 'Your password is changed.');
  assert.match(passwordChanged(1), /other device was signed out/);
  assert.match(passwordChanged(3), /3 other devices/);
});
