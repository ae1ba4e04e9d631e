// "Delete my account" (in the Your data dialog): the consequences in plain words,
// then my password again, then POST /api/me/delete. Only participants delete
// their own account (staff accounts are closed by an administrator), so the
// section shows only to them. The server closes every socket of mine with 4001
// while it answers; `onDeleted` takes over from there (sign-out on this device).

import { request } from './api.js';
import { sendFromDialog } from './dialog_send.js';

/** What a refused deletion says to the person. */
export function deleteError(err) {
  if (err && err.code === 'forbidden' && err.body && err.body.field === 'password') return 'That password is not right.';
  if (err && err.code === 'forbidden') return 'This account cannot be deleted here. Please ask your program’s staff.';
  if (err && err.code === 'rate_limited') return 'Too many tries. Please wait a while, then try again.';
  if (err && err.code === 'network') return 'We cannot reach Alongside right now. Your account has not been deleted.';
  if (err && err.status === 401) return 'Your session has ended. Please sign in again first.';
  return 'We could not delete your account just now. Nothing has changed; please try again.';
}

export function setupDeleteAccount({ section, openButton, dataButton, dataDialog, dialog, title, form, password, error, cancel, confirm, role, onDeleted }) {
  dataButton.addEventListener('click', () => {
    section.hidden = role() !== 'participant';
  });

  openButton.addEventListener('click', () => {
    form.reset();
    error.textContent = '';
    password.removeAttribute('aria-invalid');
    if (!dialog.open) dialog.showModal();
    title.focus();
  });

  cancel.addEventListener('click', () => dialog.close());

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!password.value) {
      error.textContent = 'Type your password to confirm.';
      password.setAttribute('aria-invalid', 'true');
      password.focus();
      return;
    }
    try {
      await sendFromDialog({ confirm, cancel, error }, () =>
        request('POST', '/api/me/delete', { password: password.value }, { quiet401: true }),
      );
    } catch (err) {
      error.textContent = deleteError(err);
      if (err && err.body && err.body.field === 'password') password.setAttribute('aria-invalid', 'true');
      password.focus();
      return;
    }
    form.reset();
    dialog.close();
    if (dataDialog.open) dataDialog.close();
    onDeleted();
  });
}
