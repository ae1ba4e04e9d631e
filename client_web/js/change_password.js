// "Change my password" (in the Your data dialog): the current password, then a new
// one under the same rules as registration (register_rules.js), then
// POST /api/me/password. This page stays signed in; the server signs out every other
// device of mine (their sockets close with 4001), and the dialog says so.

import { request } from './api.js';
import { sendFromDialog } from './dialog_send.js';
import { fieldProblem } from './register_rules.js';

/** Why the form cannot be sent yet, as { field, text }, or null when it can. */
export function passwordFormProblem(current, next) {
  if (!current) return { field: 'current', text: 'Type your current password.' };
  const problem = fieldProblem('password', next);
  if (problem) return { field: 'next', text: next ? problem : 'Choose a new password.' };
  return null;
}

/** What a refused change says to the person, and which field it is about. */
export function passwordChangeError(err) {
  const field = err && err.body && err.body.field;
  if (err && err.code === 'forbidden' && field === 'current_password') return { field: 'current', text: 'That is not your current password.' };
  if (err && err.code === 'invalid' && field === 'new_password') return { field: 'next', text: 'Please choose a longer password (at least 10 characters).' };
  if (err && err.code === 'rate_limited') return { field: 'current', text: 'Too many tries. Please wait a while, then try again.' };
  if (err && err.code === 'network') return { field: null, text: 'We cannot reach Alongside right now. Your password has not changed.' };
  if (err && err.status === 401) return { field: null, text: 'Your session has ended. Please sign in again first.' };
  return { field: null, text: 'We could not change your password just now. Nothing has changed; please try again.' };
}

/** The kind note once it is done. */
export function passwordChanged(endedSessions) {
  if (endedSessions === 1) return 'Your password is changed. Your other device was signed out.';
  if (endedSessions > 1) return `Your password is changed. Your ${endedSessions} other devices were signed out.`;
  return 'Your password is changed.';
}

export function setupChangePassword({ openButton, done, dialog, title, form, current, next, error, cancel, confirm }) {
  const fields = { current, next };

  function refuse(problem) {
    error.textContent = problem.text;
    const input = fields[problem.field];
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  openButton.addEventListener('click', () => {
    form.reset();
    error.textContent = '';
    done.textContent = '';
    for (const input of Object.values(fields)) input.removeAttribute('aria-invalid');
    if (!dialog.open) dialog.showModal();
    title.focus();
  });

  cancel.addEventListener('click', () => dialog.close());

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const input of Object.values(fields)) input.removeAttribute('aria-invalid');
    const problem = passwordFormProblem(current.value, next.value);
    if (problem) {
      refuse(problem);
      return;
    }
    let answer;
    try {
      answer = await sendFromDialog({ confirm, cancel, error }, () =>
        request('POST', '/api/me/password', { current_password: current.value, new_password: next.value }),
      );
    } catch (err) {
      refuse(passwordChangeError(err));
      return;
    }
    form.reset();
    dialog.close();
    done.textContent = passwordChanged(answer ? answer.ended_sessions : 0);
    openButton.focus();
  });
}
