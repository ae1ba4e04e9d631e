import assert from 'node:assert/strict';
import { test } from 'node:test';

import { sendFromDialog } from '../js/dialog_send.js';

function parts() {
  return { confirm: { disabled: false }, cancel: { disabled: false }, error: { textContent: 'earlier refusal' } };
}

test('the buttons are disabled while the request is on its way and the old error goes', async () => {
  const dom = parts();
  const answer = await sendFromDialog(dom, async () => {
    assert.equal(dom.confirm.disabled, true);
    assert.equal(dom.cancel.disabled, true);
    assert.equal(dom.error.textContent, '');
    return { ended_sessions: 2 };
  });
  assert.deepEqual(answer, { ended_sessions: 2 });
  assert.equal(dom.confirm.disabled, false);
  assert.equal(dom.cancel.disabled, false);
});

test('a refusal reaches the caller with the buttons enabled again', async () => {
  const dom = parts();
  const refused = { code: 'forbidden', status: 403 };
  await assert.rejects(
    sendFromDialog(dom, async () => {
      throw refused;
    }),
    (err) => err === refused,
  );
  assert.equal(dom.confirm.disabled, false);
  assert.equal(dom.cancel.disabled, false);
});
