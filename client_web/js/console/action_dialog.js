// The one dialog every moderator action goes through: what it does and to
// whom (as text), an optional choice (how long, how slow), a reason for the
// audit trail, Confirm / Cancel. It stays open and says why when the server
// refuses, and closes when the action is done. Native <dialog>: focus stays in
// it, Escape cancels, focus returns to the button that opened it.

import { friendlyError } from '../format.js';

/** Why an action was refused, in words (an ApiError from api.js). */
export function refusalText(err) {
  if (!err || typeof err !== 'object') return 'Something went wrong. Please try again.';
  const field = err.body && err.body.field;
  if (err.code === 'invalid' && field === 'reason') return 'Please give a reason (at most 500 characters).';
  if (err.code === 'invalid' && err.message) return `The server could not accept this: ${err.message}`;
  if (err.code === 'conflict') return err.message ? `Already done or not possible now: ${err.message}` : 'This was already done, or is not possible now.';
  if (err.code === 'not_found') return 'It is no longer there (someone may have acted on it already).';
  if (err.code === 'forbidden' || err.code === 'not_member') return 'You may not do this here.';
  if (err.status === 404 || err.status === 405) return 'This action is not available on this server yet.';
  return friendlyError(err.code, err.retryAfter);
}

export class ActionDialog {
  /** @param {Record<string, HTMLElement>} dom  dialog, form, title, about, choiceField, choiceLabel, choice, reason, reasonNote, error, confirm, cancel */
  constructor(dom) {
    this.dom = dom;
    this.current = null;
    dom.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.confirm();
    });
    dom.cancel.addEventListener('click', () => this.finish(false));
    // Escape closes it; a stale close event (the dialog reopened since) is ignored.
    dom.dialog.addEventListener('close', () => {
      if (!dom.dialog.open) this.finish(false);
    });
  }

  /**
   * spec: {title, about, confirm, reasonRequired?, choice?: {label, options: [{value, text}], value}, perform({reason, choice})}
   * Resolves true once performed, false when cancelled.
   */
  open(spec) {
    const d = this.dom;
    this.finish(false);
    d.title.textContent = spec.title;
    d.about.textContent = spec.about || '';
    d.confirm.textContent = spec.confirm;
    d.confirm.disabled = false;
    d.reason.value = '';
    d.reason.required = !!spec.reasonRequired;
    d.reasonNote.textContent = spec.reasonRequired ? '(required; kept in the audit trail)' : '(optional; kept in the audit trail)';
    d.error.textContent = '';
    d.choiceField.hidden = !spec.choice;
    if (spec.choice) {
      d.choiceLabel.textContent = spec.choice.label;
      d.choice.replaceChildren(
        ...spec.choice.options.map((o) => {
          const option = document.createElement('option');
          option.value = String(o.value);
          option.textContent = o.text;
          return option;
        }),
      );
      d.choice.value = String(spec.choice.value ?? spec.choice.options[0].value);
    }
    return new Promise((resolve) => {
      this.current = { spec, resolve, opener: document.activeElement };
      if (!d.dialog.open) d.dialog.showModal();
      (spec.choice ? d.choice : d.reason).focus();
    });
  }

  async confirm() {
    const cur = this.current;
    const d = this.dom;
    if (!cur || d.confirm.disabled) return;
    if (cur.spec.reasonRequired && !d.reason.value.trim()) {
      d.error.textContent = 'Please give a reason: it goes on the record.';
      d.reason.focus();
      return;
    }
    d.confirm.disabled = true;
    d.error.textContent = '';
    try {
      await cur.spec.perform({ reason: d.reason.value, choice: cur.spec.choice ? d.choice.value : null });
      this.finish(true);
    } catch (err) {
      if (this.current !== cur) return;
      d.error.textContent = refusalText(err);
      d.confirm.disabled = false;
      d.reason.focus();
    }
  }

  finish(done) {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    if (this.dom.dialog.open) this.dom.dialog.close();
    this.dom.about.textContent = ''; // the quoted message does not linger in the page
    this.dom.reason.value = '';
    if (cur.opener && cur.opener.isConnected && typeof cur.opener.focus === 'function') cur.opener.focus();
    cur.resolve(done);
  }
}
