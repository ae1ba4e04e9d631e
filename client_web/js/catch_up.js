// Filling holes: when a room's live events skip a seq, or the server says it
// holds more than we do (`sync`, `joined`, an `ack`), fetch what is missing
// from the history endpoint (`after=lastSeq`), a little later so frames still
// in flight can land first.

import { api } from './api.js';
import { applyAfterPage, hasGap, isBehind, roomKey } from './room.js';

const GAP_PAGE_SIZE = 200;
const MAX_GAP_PAGES = 50;
export const SYNC_GRACE_MS = 1500; // let in-flight live frames land before fetching a gap

export class CatchUp {
  /**
   * @param {object} chat  the Chat (active, rooms, removeRoom())
   * @param {(room: object, added: object[]) => void} onAdded  newly held events, ascending
   */
  constructor(chat, onAdded) {
    this.chat = chat;
    this.onAdded = onAdded;
    this.timers = new Map(); // room key -> timer
    this.fetching = new Set(); // room keys
  }

  stop() {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.fetching.clear();
  }

  /** Fetch what the room misses after `delayMs`, unless it has arrived by then. */
  schedule(room, delayMs) {
    if (this.timers.has(room.key) || this.fetching.has(room.key)) return;
    const t = setTimeout(() => {
      this.timers.delete(room.key);
      if (this.chat.active && this.chat.rooms.get(room.key) === room && (hasGap(room) || isBehind(room, room.serverLastSeq))) this.fetch(room);
    }, delayMs);
    this.timers.set(room.key, t);
  }

  async fetch(room) {
    const chat = this.chat;
    if (this.fetching.has(room.key) || !room.loaded) return;
    this.fetching.add(room.key);
    try {
      for (let i = 0; i < MAX_GAP_PAGES; i += 1) {
        const from = room.lastSeq;
        const data = await api.messages(room.id, { after: from, limit: GAP_PAGE_SIZE });
        if (!chat.active || chat.rooms.get(room.key) !== room) return;
        const added = applyAfterPage(room, data && data.messages, data && data.has_more);
        if (added.length) this.onAdded(room, added);
        if (!(data && data.has_more) || room.lastSeq === from) break;
      }
    } catch (err) {
      // The next `sync` (or reconnect) will try again.
      if (err.status === 403) chat.removeRoom(room.key, 'You are no longer a member of that room.');
    } finally {
      this.fetching.delete(room.key);
    }
  }

  /** `sync`: the room's latest seq on the server. */
  onSync(f) {
    const room = this.chat.rooms.get(roomKey(f.room));
    if (!room || !room.loaded || !Number.isInteger(f.last_seq)) return;
    if (f.last_seq > room.serverLastSeq) room.serverLastSeq = f.last_seq;
    if (isBehind(room, f.last_seq)) this.schedule(room, SYNC_GRACE_MS);
  }
}
