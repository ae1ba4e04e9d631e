// The composer, or what stands in its place when I may not post in the open
// room: a short explanation (read-only room, listening only until a time with
// "Post again now", muted by a moderator until a time, a locked room). A draft
// in the composer is kept while it is hidden. In slow mode the composer stays
// and a line under it says how long until the next message may go.
// Focus never falls to the page: if it was in the part that disappears, it
// moves to the part that appears. React and Reply on messages are offered
// only where I may post (the list's data-posting).

import { blockText, postingBlock } from './posting.js';
import { slowLine } from './slow_mode.js';

export class ComposerGate {
  /** @param {{composer: HTMLElement, composerInput: HTMLElement, closed: HTMLElement, closedText: HTMLElement,
   *           closedAction: HTMLButtonElement, closedError: HTMLElement, slow: HTMLElement, list: HTMLElement}} dom */
  constructor(dom, { onStopObserving }) {
    this.dom = dom;
    dom.closedAction.addEventListener('click', () => onStopObserving(dom.closedError));
  }

  /** Show the composer or the explanation for `room`. */
  render(room, now = Date.now()) {
    const d = this.dom;
    const block = postingBlock(room, now);
    const active = document.activeElement;
    const focusWasInComposer = !!active && d.composer.contains(active);
    const focusWasInClosed = !!active && d.closed.contains(active);
    if (block) {
      d.closedText.textContent = blockText(block, room.kind, new Date(now));
      d.closedAction.hidden = block.reason !== 'observing';
    }
    const changing = d.closed.hidden !== !block;
    if (changing) d.closedError.textContent = '';
    d.composer.hidden = !!block;
    d.closed.hidden = !block;
    d.list.dataset.posting = block ? 'closed' : 'open';
    if (block && focusWasInComposer) d.closed.focus();
    if (!block && focusWasInClosed) d.composerInput.focus();
    this.renderSlow(room, now);
  }

  /** The slow-mode line (hidden when slow mode is off and nothing is left to wait). */
  renderSlow(room, now = Date.now()) {
    const text = slowLine(room, now);
    if (this.dom.slow.textContent !== text) this.dom.slow.textContent = text;
    this.dom.slow.hidden = !text;
  }

  /** No room is open. */
  clear() {
    this.dom.composer.hidden = false;
    this.dom.closed.hidden = true;
    this.dom.closedError.textContent = '';
    this.dom.slow.hidden = true;
  }
}
