// Raising a message with the room's moderators, in a dialog that says plainly
// what happens next: "Report" (harmful content, a reason is asked for) and
// "I'm worried about this person" (moderators are told privately and can
// check in; the writer never learns who raised it). Both are HTTP calls
// (api.report, api.concern); the answer is said in words.

import { api } from './api.js';
import { displayName, excerpt, friendlyError } from './format.js';
import { quoteNode } from './render.js';

const MAX_REASON = 500;

/** The words of each kind of flag. `name`: the writer's display name. Pure. */
export function flagWords(kind, name) {
  if (kind === 'concern') {
    return {
      title: 'I’m worried about this person',
      intro: `The moderators of this room are told privately, so they can check in with ${name}. ${name} is not told who raised it. If someone is in danger right now, call your local emergency number.`,
      label: 'Anything a moderator should know? (optional)',
      submit: 'Let a moderator know',
      required: false,
      done: `Thank you for looking out for ${name}. A moderator has been told.`,
    };
  }
  return {
    title: 'Report this message',
    intro: `The moderators of this room will look at it. ${name} is not told who reported it.`,
    label: 'What is wrong with this message?',
    submit: 'Send report',
    required: true,
    done: 'Thank you. The moderators will look at this message.',
  };
}

/** What to say when the server refused a flag. Pure. */
export function flagError(err) {
  if (err && (err.status === 404 || err.status === 409)) return 'That message is no longer there, so there is nothing to send.';
  return friendlyError(err && err.code, err && err.retryAfter);
}

export class FlagDialog {
  /**
   * @param {{dialog: HTMLDialogElement, form: HTMLFormElement, title: HTMLElement, intro: HTMLElement,
   *          quote: HTMLElement, label: HTMLElement, reason: HTMLTextAreaElement, error: HTMLElement,
   *          submit: HTMLButtonElement, cancel: HTMLButtonElement}} dom
   * @param {{say: (text: string) => void}} hooks  say: a short note for the reader (seen and announced)
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.current = null; // {kind, room, seq, words, returnTo}
    dom.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send();
    });
    dom.cancel.addEventListener('click', () => dom.dialog.close());
    dom.dialog.addEventListener('close', () => {
      const back = this.current && this.current.returnTo;
      this.current = null;
      dom.quote.replaceChildren(); // the words stay only where they belong
      if (back && back.isConnected) back.focus();
    });
  }

  /** kind: 'report' | 'concern'; ev: the message; returnTo: where focus goes back after. */
  open(kind, room, ev, returnTo) {
    const d = this.dom;
    const words = flagWords(kind, displayName(ev.author));
    this.current = { kind, room, seq: ev.seq, words, returnTo };
    d.title.textContent = words.title;
    d.intro.textContent = words.intro;
    d.quote.replaceChildren(quoteNode({ author: ev.author, excerpt: excerpt(ev.body) }));
    d.label.textContent = words.label;
    d.reason.value = '';
    d.reason.required = words.required;
    d.reason.setAttribute('aria-invalid', 'false');
    d.error.textContent = '';
    d.submit.textContent = words.submit;
    d.submit.disabled = false;
    if (!d.dialog.open) d.dialog.showModal();
    d.reason.focus();
  }

  async send() {
    const d = this.dom;
    const cur = this.current;
    if (!cur) return;
    const text = d.reason.value.trim();
    if (cur.words.required && !text) {
      d.error.textContent = 'Please say in a few words what is wrong, so the moderators know what to look for.';
      d.reason.setAttribute('aria-invalid', 'true');
      d.reason.focus();
      return;
    }
    d.submit.disabled = true;
    d.error.textContent = '';
    try {
      const clipped = text.slice(0, MAX_REASON);
      if (cur.kind === 'concern') await api.concern(cur.room.id, cur.seq, clipped);
      else await api.report(cur.room.id, cur.seq, clipped);
    } catch (err) {
      if (this.current !== cur) return;
      d.submit.disabled = false;
      d.error.textContent = flagError(err);
      return;
    }
    if (this.current !== cur) return;
    d.dialog.close();
    this.hooks.say(cur.words.done);
  }
}
