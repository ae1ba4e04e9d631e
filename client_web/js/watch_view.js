// The open room's watch, on screen: the "Monitored now / Not monitored" line
// under its title and, while nobody watches it, a calm notice with the crisis
// resources its `room_state` carries (a disclosure the person may fold away;
// it stays folded for that room until the page reloads). Also the hold line.

import { resourceNode } from './render.js';
import { holdText, unwatchedNotice, watchLine } from './watch.js';

export class WatchView {
  /** @param {{line: HTMLElement, notice: HTMLElement, details: HTMLDetailsElement, headline: HTMLElement,
   *           intro: HTMLElement, resources: HTMLElement, fallback: HTMLElement, hold: HTMLElement}} dom */
  constructor(dom) {
    this.dom = dom;
    this.key = null;
    this.folded = new Set(); // room keys whose notice the person folded away
    dom.details.addEventListener('toggle', () => {
      if (this.key === null || dom.details.hidden) return;
      if (dom.details.open) this.folded.delete(this.key);
      else this.folded.add(this.key);
    });
  }

  /** Show `room`'s last known state (nothing while it is not known yet). */
  render(room) {
    const d = this.dom;
    this.key = room.key;
    const line = watchLine(room.state);
    d.line.textContent = line ? line.text : '';
    d.line.dataset.watched = line ? String(line.watched) : '';

    const notice = unwatchedNotice(room.state);
    d.details.hidden = !notice;
    if (notice) {
      d.headline.textContent = notice.headline;
      d.intro.textContent = notice.intro;
      d.resources.replaceChildren(...notice.resources.map(resourceNode));
      d.resources.hidden = notice.resources.length === 0;
      d.fallback.hidden = notice.resources.length > 0;
      d.details.open = !this.folded.has(room.key);
    }
    const hold = holdText(room.state, room.role);
    d.hold.textContent = hold;
    d.hold.hidden = !hold;
    d.notice.hidden = !notice && !hold;
  }

  clear() {
    const d = this.dom;
    this.key = null;
    this.folded.clear();
    d.line.textContent = '';
    d.line.dataset.watched = '';
    d.notice.hidden = true;
    d.details.hidden = true;
    d.resources.replaceChildren();
    d.hold.hidden = true;
  }
}
