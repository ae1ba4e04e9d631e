// The message box of the open room: Enter sends (Shift+Enter a new line), it
// grows with its text up to a limit, says plainly when the text is over the
// server's length limit, sends `typing` now and then, and keeps each room's
// unsent draft while another room is open.

const TYPING_SEND_EVERY_MS = 2000;
const MAX_HEIGHT_PX = 160;

export class Composer {
  /**
   * @param {{composer: HTMLFormElement, composerInput: HTMLTextAreaElement, composerError: HTMLElement}} dom
   * @param {{onSubmit: () => void, sendTyping: () => boolean, maxChars: () => number}} hooks
   *   sendTyping: sends a `typing` frame for the open room when it is joined; false when it could not
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.drafts = new Map(); // room key -> unsent text
    this.lastTypingSentAt = 0;
    dom.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      hooks.onSubmit();
    });
    dom.composerInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.ctrlKey && !ev.altKey && !ev.metaKey && !ev.isComposing) {
        ev.preventDefault();
        hooks.onSubmit();
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
    this.dom.composerInput.value = this.drafts.get(toKey) || '';
    this.dom.composerError.textContent = '';
    this.lastTypingSentAt = 0;
  }

  /** The message went into the outbox: empty the box and forget the draft. */
  sent(roomKey) {
    this.dom.composerInput.value = '';
    this.dom.composerError.textContent = '';
    this.drafts.delete(roomKey);
    this.autosize();
  }

  clear() {
    this.drafts.clear();
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
    this.dom.composerError.textContent =
      over > 0 ? `This message is ${over} character${over === 1 ? '' : 's'} too long. You could split it into smaller parts.` : '';
    this.dom.composerInput.setAttribute('aria-invalid', over > 0 ? 'true' : 'false');
  }

  autosize() {
    const ta = this.dom.composerInput;
    ta.style.height = 'auto';
    ta.style.height = `${Math.min(ta.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
  }
}
