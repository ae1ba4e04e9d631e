// Telling the server how far I have read a room (POST /api/rooms/{id}/read),
// once its latest event has been on screen for a moment while the page is
// visible: a room scrolled past quickly, or a page left in the background, is
// not marked read. One request per room at a time; the marker only moves forward.

import { api } from './api.js';
import { applyRead } from './unread.js';

const DWELL_MS = 1000;

export class ReadMarker {
  /**
   * @param {{stillSeen: (room: object) => boolean, moved: (room: object) => void}} hooks
   *   stillSeen: is the room's latest event still on screen; moved: my marker in the room moved
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.timers = new Map(); // room key -> timer
    this.sending = new Set(); // room keys with a request in flight
  }

  /** The room's latest event is on screen now. */
  seen(room) {
    if (room.lastSeq <= room.lastReadSeq || this.timers.has(room.key)) return;
    this.timers.set(
      room.key,
      setTimeout(() => {
        this.timers.delete(room.key);
        if (this.hooks.stillSeen(room)) this.send(room);
      }, DWELL_MS),
    );
  }

  async send(room) {
    const seq = room.lastSeq;
    if (seq <= room.lastReadSeq || this.sending.has(room.key)) return;
    this.sending.add(room.key);
    try {
      const answer = await api.markRead(room.id, seq);
      if (answer && applyRead(room, answer.last_read_seq)) this.hooks.moved(room);
    } catch {
      // Not marked this time: the next look at the room tries again.
    } finally {
      this.sending.delete(room.key);
    }
    if (room.lastSeq > room.lastReadSeq && this.hooks.stillSeen(room)) this.seen(room); // more arrived meanwhile
  }

  stop() {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.sending.clear();
  }
}
