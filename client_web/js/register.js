// The registration page an invite link opens: what the invite is for (or,
// kindly, why it cannot be used), then username, password and display name
// with inline checks, then POST /api/auth/register. On success the person is
// signed in and the app takes over (hooks.onRegistered).

import { api, setCsrfToken } from './api.js';
import { el } from './render.js';
import { FIELDS, fieldProblem, inviteProblemText, registrationRefusal } from './register_rules.js';

const CHECKING = 'Checking your invite…';

function inviteLine(preview) {
  const program = preview.program && typeof preview.program.name === 'string' ? preview.program.name : '';
  const cohort = preview.cohort && typeof preview.cohort.name === 'string' ? preview.cohort.name : '';
  if (cohort) return ['You are invited to join ', el('strong', { text: cohort }), program ? ` in ${program}.` : '.'];
  if (program) return ['You are invited to join the team of ', el('strong', { text: program }), '.'];
  return ['You are invited to join Alongside.'];
}

export class RegisterView {
  /**
   * @param {object} dom  elements (see main.js: register*)
   * @param {{onRegistered: (answer: object, preview: object) => void, onSignIn: () => void,
   *          onStay: (me: object) => void, signOut: () => Promise<boolean>}} hooks
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.token = null;
    this.preview = null;
    this.me = null;
    this.shown = new Set(); // fields whose problem is on screen (checked as the person types)
    this.inputs = { username: dom.username, password: dom.password, display_name: dom.displayName };
    this.errors = { username: dom.usernameError, password: dom.passwordError, display_name: dom.displayNameError };
    this.bind();
  }

  bind() {
    const d = this.dom;
    d.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    for (const field of FIELDS) {
      const input = this.inputs[field];
      input.addEventListener('blur', () => {
        if (input.value || this.shown.has(field)) this.check(field);
      });
      input.addEventListener('input', () => {
        if (this.shown.has(field)) this.check(field);
      });
    }
    d.showPassword.addEventListener('change', () => {
      d.password.type = d.showPassword.checked ? 'text' : 'password';
    });
    d.retry.addEventListener('click', () => this.loadPreview(true));
    d.toLogin.addEventListener('click', () => this.hooks.onSignIn());
    d.haveAccount.addEventListener('click', () => this.hooks.onSignIn());
    d.stay.addEventListener('click', () => this.hooks.onStay(this.me));
    d.switchAccount.addEventListener('click', () => this.switchAccount());
  }

  /** Show the page for `token`; `me` is the signed-in session on this device, if any. */
  open(token, me) {
    this.token = token;
    this.preview = null;
    this.me = me;
    this.resetForm();
    if (me && me.user) {
      const name = me.user.display_name || me.user.username || 'someone';
      this.dom.signedInText.textContent = `You are signed in as ${name} on this device. This invite is for creating a new account.`;
      this.showPart('signedIn');
      return;
    }
    this.loadPreview(false);
  }

  async switchAccount() {
    const d = this.dom;
    d.switchAccount.disabled = true;
    setCsrfToken(this.me && this.me.csrf_token);
    const ok = await this.hooks.signOut();
    d.switchAccount.disabled = false;
    if (!ok) {
      d.signedInText.textContent = 'We could not sign you out just now. Please check your connection and try again.';
      return;
    }
    this.me = null;
    this.loadPreview(true);
  }

  /** focus: move focus to the page's title when done (after an action of the person's, not on arrival). */
  async loadPreview(focus) {
    const d = this.dom;
    this.showPart('status');
    d.status.textContent = CHECKING;
    let preview;
    try {
      preview = await api.invite(this.token);
    } catch (err) {
      this.showProblem(
        err.code === 'network'
          ? 'We could not check your invite just now. Please check your connection and try again.'
          : 'Something went wrong while checking your invite. Please try again.',
        { canRetry: true, focus },
      );
      return;
    }
    if (!preview || preview.valid !== true) {
      this.showProblem(inviteProblemText(preview && preview.code), { canRetry: false, focus });
      return;
    }
    this.preview = preview;
    d.invite.replaceChildren(...inviteLine(preview));
    this.showPart('form');
    if (focus) this.dom.title.focus();
  }

  showProblem(text, { canRetry, focus }) {
    this.dom.problemText.textContent = text;
    this.dom.retry.hidden = !canRetry;
    this.showPart('problem');
    if (focus) this.dom.title.focus(); // what had focus is gone; start again from the top
  }

  /** One of: status (checking), signedIn, problem, form. */
  showPart(part) {
    const d = this.dom;
    if (part !== 'status') d.status.textContent = '';
    d.signedIn.hidden = part !== 'signedIn';
    d.problem.hidden = part !== 'problem';
    d.form.hidden = part !== 'form';
  }

  resetForm() {
    this.dom.form.reset();
    this.dom.password.type = 'password';
    this.dom.formError.textContent = '';
    this.dom.submit.disabled = false;
    this.shown.clear();
    for (const field of FIELDS) this.setFieldError(field, '');
  }

  setFieldError(field, text) {
    this.errors[field].textContent = text;
    this.inputs[field].setAttribute('aria-invalid', text ? 'true' : 'false');
    if (text) this.shown.add(field);
    else this.shown.delete(field);
  }

  /** Check one field now; returns whether it is fine. */
  check(field) {
    const problem = fieldProblem(field, this.inputs[field].value);
    this.setFieldError(field, problem);
    return !problem;
  }

  values() {
    return {
      username: this.dom.username.value.trim(),
      password: this.dom.password.value,
      display_name: this.dom.displayName.value.trim(),
    };
  }

  async submit() {
    const d = this.dom;
    if (!this.preview || d.submit.disabled) return;
    d.formError.textContent = '';
    const bad = FIELDS.filter((field) => !this.check(field));
    if (bad.length) {
      this.inputs[bad[0]].focus();
      return;
    }
    const values = this.values();
    d.submit.disabled = true;
    d.submit.textContent = 'Creating your account…';
    try {
      const answer = await api.register({ ...values, invite: this.token });
      d.password.value = '';
      this.hooks.onRegistered(answer, this.preview);
    } catch (err) {
      this.refused(err, values);
    } finally {
      d.submit.disabled = false;
      d.submit.textContent = 'Create my account';
    }
  }

  refused(err, values) {
    const where = registrationRefusal(err, values);
    if (where.invite) {
      this.showProblem(inviteProblemText(where.invite), { canRetry: false, focus: true });
      return;
    }
    if (where.field) {
      this.setFieldError(where.field, where.text);
      this.inputs[where.field].focus();
      return;
    }
    this.dom.formError.textContent = where.text;
  }
}
