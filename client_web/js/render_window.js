// Which of the open room's events are rendered: a window over the events
// that get a node (message_list.js isShown), in seq order. The conversation
// moves it; this says what lies before and after it. The sorted list is kept
// while the room holds the same events (they are only ever added, so their
// count and ends tell), so a long room is not sorted again on every step.

import { isShown } from './message_list.js';
import { heldEvents } from './room.js';

export class RenderWindow {
  /** @param {import('./message_list.js').MessageListView} listView  what is rendered */
  constructor(listView) {
    this.listView = listView;
    this.cache = null;
  }

  /** The room's held events that get a node, ascending. */
  shown(room) {
    const c = this.cache;
    if (c && c.room === room && c.size === room.events.size && c.first === room.firstSeq && c.max === room.maxSeq) return c.list;
    const list = heldEvents(room).filter(isShown);
    this.cache = { room, size: room.events.size, first: room.firstSeq, max: room.maxSeq, list };
    return list;
  }

  /** Shown events older than the rendered ones (all of them when none is rendered). */
  older(room) {
    const shown = this.shown(room);
    const bounds = this.listView.bounds();
    if (!bounds) return shown;
    const at = shown.findIndex((ev) => ev.seq >= bounds.lo);
    return at < 0 ? shown : shown.slice(0, at);
  }

  /** Shown events newer than the rendered ones. */
  newer(room) {
    const shown = this.shown(room);
    const bounds = this.listView.bounds();
    if (!bounds) return shown;
    const at = shown.findIndex((ev) => ev.seq > bounds.hi);
    return at < 0 ? [] : shown.slice(at);
  }

  /** The seq of the `nth` rendered event from the oldest (0-based; clamped to the rendered ones). */
  renderedSeq(nth) {
    const seqs = [...this.listView.nodes.keys()].sort((a, b) => a - b);
    return seqs[Math.max(0, Math.min(nth, seqs.length - 1))];
  }
}
