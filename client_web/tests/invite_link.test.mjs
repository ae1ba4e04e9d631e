import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inviteToken } from '../js/invite_link.js';

test('the invite token is read from the fragment', () => {
  assert.equal(inviteToken('#invite=abc.DEF-_12'), 'abc.DEF-_12');
  assert.equal(inviteToken('invite=abc'), 'abc');
  assert.equal(inviteToken('#x=1&invite=a%2Eb'), 'a.b');
  assert.equal(inviteToken('#invite=%20abc%20'), 'abc');
});

test('no token, an empty one or a broken escape is no invite', () => {
  for (const hash of ['', '#', '#invite=', '#invites=abc', '#room=3', '#invite=%E0%A4%A', null, undefined]) {
    assert.equal(inviteToken(hash), null, String(hash));
  }
});
