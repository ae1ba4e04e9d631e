// "Options" in the open room: listen only for a while (POST /api/rooms/{id}/observe)
// and post again (DELETE). A disclosure panel under the room header: Escape or
// Close folds it and gives focus back to the button. The answer is applied at
// once through hooks.setObserving, as the `observing` frame that every device
// of mine gets is (so whichever comes first is announced, once).

import { api } from './api.js';
import { formatUntil, friendlyError } from './format.js';
import { isObserving, untilMs } from './posting.js';

const OBSERVE_ERROR = {
  read_only: 'This room is read-only for you already, so there is nothing to pause.',
  invalid: 'That did not work. Please try again.',
};

function observeErrorText(err) {
  return OBSERVE_ERROR[err.code] || friendlyError(err.code, err.retryAfter);
}

export class ObserveControls {
  /**
   * @param {{button: HTMLButtonElement, panel: HTMLElement, title: HTMLElement, choices: HTMLElement,
   *          current: HTMLElement, stop: HTMLButtonElement, close: HTMLButtonElement, error: HTMLElement}} dom
   * @param {{openRoom: () => object|null, setObserving: (room: object, until: number|null) => void,
   *          focusComposer: () => void}} hooks
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.busy = false;
    dom.button.addEventListener('click', () => (dom.panel.hidden ? this.openPanel() : this.closePanel(true)));
    dom.close.addEventListener('click', () => this.closePanel(true));
    dom.panel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        this.closePanel(true);
      }
    });
    for (const choice of dom.choices.querySelectorAll('button[data-minutes]')) {
      choice.addEventListener('click', () => this.start(Number(choice.dataset.minutes)));
    }
    dom.stop.addEventListener('click', () => this.stop(dom.error));
  }

  /** Reflect the open room: readers have nothing to pause, so no Options at all. */
  render(room, now = Date.now()) {
    const d = this.dom;
    const reader = room.role === 'reader';
    d.button.hidden = reader;
    if (reader) this.closePanel(false);
    const observing = isObserving(room, now);
    d.choices.hidden = observing;
    d.stop.hidden = !observing;
    d.current.hidden = !observing;
    d.current.textContent = observing ? `You are listening only here ${formatUntil(room.observingUntil, new Date(now))}.` : '';
  }

  openPanel() {
    const d = this.dom;
    d.error.textContent = '';
    d.panel.hidden = false;
    d.button.setAttribute('aria-expanded', 'true');
    d.title.focus();
  }

  closePanel(returnFocus) {
    const d = this.dom;
    if (d.panel.hidden) return;
    d.panel.hidden = true;
    d.button.setAttribute('aria-expanded', 'false');
    if (returnFocus && !d.button.hidden) d.button.focus();
  }

  async start(minutes) {
    const room = this.hooks.openRoom();
    if (!room || this.busy) return;
    this.busy = true;
    this.dom.error.textContent = '';
    try {
      const answer = await api.observe(room.id, minutes);
      this.closePanel(true);
      this.hooks.setObserving(room, untilMs(answer && answer.observing_until));
    } catch (err) {
      this.dom.error.textContent = observeErrorText(err);
    } finally {
      this.busy = false;
    }
  }

  /** Post again; a refusal is explained in `errorEl` (the panel's or the composer gate's). */
  async stop(errorEl) {
    const room = this.hooks.openRoom();
    if (!room || this.busy) return;
    this.busy = true;
    errorEl.textContent = '';
    try {
      await api.stopObserving(room.id);
      const fromPanel = this.dom.panel.contains(document.activeElement);
      this.closePanel(false);
      this.hooks.setObserving(room, null);
      if (fromPanel) this.hooks.focusComposer();
    } catch (err) {
      errorEl.textContent = observeErrorText(err);
    } finally {
      this.busy = false;
    }
  }
}
