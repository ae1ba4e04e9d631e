// The message box of the open room: Enter sends (Shift+Enter a new line), it
// grows with its text up to a limit, says plainly when the text is over the
// server's length limit, sends `typing` now and then, and keeps each room's
// unsent draft (and the message it replies to) while another room is open.

import { quoteNode } from './render.js';

const TYPING_SEND_EVERY_MS = 2000;
const MAX_HEIGHT_PX = 160;

export class Composer {
  /**
   * @param {{composer: HTMLFormElement, composerInput: HTMLTextAreaElement, composerError: HTMLElement,
   *          replyBar: HTMLElement, replyQuote: HTMLElement, replyCancel: HTMLButtonElement}} dom
   * @param {{onSubmit: () => void, sendTyping: () => boolean, maxChars: () => number}} hooks
   *   sendTyping: sends a `typing` frame for the open room when it is joined; false when it could not
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.drafts = new Map(); // room key -> unsent text
    this.replies = new Map(); // room key -> quote of the message being answered
    this.openKey = null;
    this.lastTypingSentAt = 0;
    this.describedBy = dom.composerInput.getAttribute('aria-describedby') || '';
    dom.replyCancel.addEventListener('click', () => this.cancelReply());
    dom.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      hooks.onSubmit();
    });
    dom.composerInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.ctrlKey && !ev.altKey && !ev.metaKey && !ev.isComposing) {
        ev.preventDefault();
        hooks.onSubmit();
      } else if (ev.key === 'Escape' && this.reply()) {
        ev.preventDefault();
        this.cancelReply();
      }
    });
    dom.composerInput.addEventListener('input', () => {
      this.autosize();
      this.checkLength();
      this.maybeSendTyping();
    });
  }

  /** The text to send, trimmed. */
  text() {
    return this.dom.composerInput.value.trim();
  }

  focus() {
    this.dom.composerInput.focus();
  }

  /** Another room opens: keep the draft of `fromKey` (null: none was open), show the one of `toKey`. */
  switchRoom(fromKey, toKey) {
    if (fromKey !== null) this.drafts.set(fromKey, this.dom.composerInput.value);
    this.openKey = toKey;
    this.dom.composerInput.value = this.drafts.get(toKey) || '';
    this.dom.composerError.textContent = '';
    this.lastTypingSentAt = 0;
    this.showReply();
  }

  /** Answer a message of the open room: its quote shows above the box until sent or cancelled. */
  startReply(quote) {
    if (this.openKey === null) return;
    this.replies.set(this.openKey, quote);
    this.showReply();
    this.focus();
  }

  /** The quote of the message the open room's draft answers, or null. */
  reply() {
    return this.openKey === null ? null : this.replies.get(this.openKey) || null;
  }

  /** The message a draft answers was removed: the draft stays, without the quote. True when one did. */
  dropReplyTo(roomKey, seq) {
    const quote = this.replies.get(roomKey);
    if (!quote || quote.seq !== seq) return false;
    this.replies.delete(roomKey);
    if (roomKey === this.openKey) this.showReply();
    return true;
  }

  cancelReply() {
    if (this.openKey !== null) this.replies.delete(this.openKey);
    this.showReply();
    this.focus();
  }

  showReply() {
    const d = this.dom;
    const quote = this.reply();
    d.replyBar.hidden = !quote;
    d.replyQuote.replaceChildren(...(quote ? [quoteNode(quote)] : []));
    const described = quote ? `${d.replyQuote.id} ${this.describedBy}` : this.describedBy;
    d.composerInput.setAttribute('aria-describedby', described.trim());
  }

  /**
   * A short line under the box (a polite live region): an error, or with tone 'note' something
   * kind that is not one (thanks for a report, why a message has not gone yet).
   */
  say(text, tone = 'error') {
    this.dom.composerError.textContent = text;
    this.dom.composerError.dataset.tone = tone;
  }

  /** Words come back into the box (a message not approved): after what is already there. */
  restore(text) {
    const ta = this.dom.composerInput;
    ta.value = ta.value.trim() ? `${ta.value.replace(/\s+$/, '')}\n${text}` : text;
    this.autosize();
    this.checkLength();
    this.focus();
  }

  /** The message went into the outbox: empty the box and forget the draft. */
  sent(roomKey) {
    this.dom.composerInput.value = '';
    this.dom.composerError.textContent = '';
    this.drafts.delete(roomKey);
    this.replies.delete(roomKey);
    this.showReply();
    this.autosize();
  }

  clear() {
    this.drafts.clear();
    this.replies.clear();
    this.openKey = null;
    this.showReply();
    this.lastTypingSentAt = 0;
    this.dom.composerInput.value = '';
    this.dom.composerError.textContent = '';
  }

  maybeSendTyping() {
    if (!this.text()) return;
    const now = Date.now();
    if (now - this.lastTypingSentAt < TYPING_SEND_EVERY_MS) return;
    if (this.hooks.sendTyping()) this.lastTypingSentAt = now;
  }

  /** How many characters `text` is over the limit (0 or less: fine). */
  overLimit(text) {
    const max = Number(this.hooks.maxChars());
    if (!max) return 0;
    return [...text].length - max;
  }

  checkLength() {
    const over = this.overLimit(this.text());
    this.say(over > 0 ? `This message is ${over} character${over === 1 ? '' : 's'} too long. You could split it into smaller parts.` : '');
    this.dom.composerInput.setAttribute('aria-invalid', over > 0 ? 'true' : 'false');
  }

  autosize() {
    const ta = this.dom.composerInput;
    ta.style.height = 'auto';
    ta.style.height = `${Math.min(ta.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
  }
}
