// Joining the open room on the socket with `since` (the last seq we hold with
// nothing missing), leaving the one we move away from, and what to do when a
// join is refused. One room is joined at a time: the open one.

import { resetRoom, roomKey } from './room.js';

const MAX_JOIN_TRIES = 5;

export class Joins {
  /**
   * @param {object} chat  the Chat (active, rooms, openKey, openRoom(), conn, status, removeRoom())
   * @param {{conversation: object, historyStatus: HTMLElement}} parts
   */
  constructor(chat, parts) {
    this.chat = chat;
    this.parts = parts;
    this.joinedKey = null; // the open room, once the server answered `joined`
    this.onConn = new Set(); // rooms we sent `join` for on this connection
    this.refs = new Map(); // ref -> room key
    this.seq = 0;
    this.retries = new Map(); // room key -> refused joins so far
  }

  /** A new connection (or none): nothing is joined on it yet. */
  reset() {
    this.joinedKey = null;
    this.onConn.clear();
    this.refs.clear();
  }

  isJoined(key) {
    return key !== null && this.joinedKey === key;
  }

  joinOpenRoom() {
    const chat = this.chat;
    const room = chat.openRoom();
    if (!room || !room.loaded || !chat.conn.ready) return;
    const ref = `join:${room.key}:${++this.seq}`;
    this.refs.set(ref, room.key);
    if (chat.conn.send({ type: 'join', room: room.id, since: room.lastSeq, ref })) this.onConn.add(room.key);
  }

  /** Stop receiving a room we move away from (its state is kept; coming back re-joins with `since`). */
  leave(room) {
    if (this.joinedKey === room.key) this.joinedKey = null;
    if (!this.onConn.has(room.key)) return;
    this.chat.conn.send({ type: 'leave', room: room.id, ref: `leave:${room.key}` });
    this.onConn.delete(room.key);
  }

  forget(key) {
    this.onConn.delete(key);
    if (this.joinedKey === key) this.joinedKey = null;
  }

  /** `joined`: returns the room, or null when we know no such room. */
  onJoined(f) {
    const chat = this.chat;
    const key = this.refs.get(f.ref) ?? roomKey(f.room);
    this.refs.delete(f.ref);
    const room = chat.rooms.get(key);
    if (!room) return null;
    this.retries.delete(key);
    if (Number.isInteger(f.last_seq) && f.last_seq > room.serverLastSeq) room.serverLastSeq = f.last_seq;
    if (key === chat.openKey) this.joinedKey = key;
    return room;
  }

  /** An error frame answering one of our joins; false when it is about something else. */
  onError(f) {
    if (!this.refs.has(f.ref)) return false;
    const key = this.refs.get(f.ref);
    this.refs.delete(f.ref);
    this.refused(key, f);
    return true;
  }

  refused(key, f) {
    const chat = this.chat;
    const room = chat.rooms.get(key);
    if (!room) return;
    this.onConn.delete(key);
    const tries = (this.retries.get(key) || 0) + 1;
    this.retries.set(key, tries);
    if (f.code === 'not_member' || f.code === 'forbidden') {
      chat.removeRoom(key, 'You are no longer a member of that room.');
      return;
    }
    if (tries > MAX_JOIN_TRIES) {
      if (key === chat.openKey) this.parts.historyStatus.textContent = 'We could not open this room. Please reload the page.';
      return;
    }
    if (f.code === 'invalid') {
      // Our `since` is ahead of the server (its history changed): start over.
      resetRoom(room);
      if (key === chat.openKey) {
        this.parts.conversation.clear();
        this.parts.conversation.loadLatest(room);
      }
      return;
    }
    const wait = f.code === 'rate_limited' && Number(f.retry_after) > 0 ? Number(f.retry_after) * 1000 : 2000 * tries;
    setTimeout(() => {
      if (chat.active && chat.openKey === key && this.joinedKey !== key) this.joinOpenRoom();
    }, wait);
  }
}
