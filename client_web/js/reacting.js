// Giving and taking back reactions: a `react` frame per press. Counts change
// when the stored `reaction` event comes back (to everyone at once), so what
// the page shows is always what the room holds. A refusal is said in words.

import { friendlyError } from './format.js';
import { REACTIONS } from './reactions.js';

const REACT_ERROR = {
  invalid: 'That message can no longer take reactions.',
  read_only: 'This room is read-only for you now, so the reaction was not sent.',
  observing: 'You chose to listen only in this room for now, so the reaction was not sent.',
  muted: 'A moderator has paused your posting here for now, so the reaction was not sent.',
  locked: 'A moderator has locked this room for now, so the reaction was not sent.',
  slow_mode: 'Slow mode is on here, so the reaction was not sent. Please try again in a moment.',
};

export class Reacting {
  /**
   * @param {object} chat  the Chat (conn, rooms, status)
   * @param {(text: string) => void} say  shows and announces a short note
   */
  constructor(chat, say) {
    this.chat = chat;
    this.say = say;
    this.refs = new Map(); // ref -> room key
    this.seq = 0;
  }

  /** Give (on) or take back (off) reaction `emoji` on message `target`. */
  react(room, target, emoji, on) {
    const name = (REACTIONS.find((r) => r.key === emoji) || { name: 'reaction' }).name;
    const ref = `react:${++this.seq}`;
    if (!this.chat.conn.send({ type: 'react', room: room.id, target, emoji, on, ref })) {
      this.say(`You are offline, so the ${name.toLowerCase()} was not sent. Please try again when you are connected.`);
      return;
    }
    this.refs.set(ref, room.key);
  }

  /** `ack` for one of my reactions (seq null: it changed nothing). False when it is not one. */
  onAck(f) {
    return this.refs.delete(f.ref);
  }

  /** An error frame answering one of my reactions; false when it is about something else. */
  onError(f) {
    const key = this.refs.get(f.ref);
    if (key === undefined) return false;
    this.refs.delete(f.ref);
    const room = this.chat.rooms.get(key);
    if (room) this.chat.status.refused(room, f.code, f.until, f.retry_after);
    this.say(REACT_ERROR[f.code] || friendlyError(f.code, f.retry_after));
    return true;
  }

  clear() {
    this.refs.clear();
  }
}
