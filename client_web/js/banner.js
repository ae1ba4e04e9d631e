// The calm line under the top bar that says the connection dropped and we are
// reconnecting, then that we are back (for a few seconds).

const BACK_SHOWN_MS = 3000;

export class ConnectionBanner {
  /** @param {HTMLElement} node  a polite live region */
  constructor(node) {
    this.node = node;
    this.timer = null;
  }

  down() {
    clearTimeout(this.timer);
    this.show('Connection lost — reconnecting…', 'warn');
  }

  back() {
    clearTimeout(this.timer);
    this.show('Connected again.', 'ok');
    this.timer = setTimeout(() => this.show(''), BACK_SHOWN_MS);
  }

  clear() {
    clearTimeout(this.timer);
    this.show('');
  }

  show(text, tone) {
    this.node.textContent = text;
    this.node.dataset.tone = tone || '';
    this.node.classList.toggle('banner-visible', !!text);
  }
}
