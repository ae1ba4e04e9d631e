// Messages the user has sent that the server has not (visibly) stored yet.
// Each keeps its client_id for its whole life, so a retry or a re-send after a
// reconnect can never create a second message (the server deduplicates by it).
//
// status: 'sending' – not acknowledged yet (re-sent on reconnect)
//         'acked'   – the server stored it (seq known); waiting for the message
//                     itself to arrive in the room so it can replace this entry
//         'failed'  – refused with an error frame; the user may retry or discard
//         'held'    – kept for a moderator's review (`held`): no seq, only the
//                     author sees it; never re-sent (a retry would be held again)
//         'rejected'– a moderator did not approve the held message
//                     (`held_rejected`): kept, with the reason, to edit or discard

export class Outbox {
  constructor() {
    /** @type {Map<string, object>} */
    this.entries = new Map();
  }

  /** replyTo: the quote of the message it answers ({seq, author, excerpt}), or null. */
  add(roomKey, roomId, body, clientId, replyTo = null) {
    const entry = {
      clientId,
      roomKey,
      roomId,
      body,
      replyTo,
      status: 'sending',
      seq: null,
      error: null,
      createdAt: Date.now(),
      lastSentAt: 0,
    };
    this.entries.set(clientId, entry);
    return entry;
  }

  get(clientId) {
    return this.entries.get(clientId);
  }

  has(clientId) {
    return this.entries.has(clientId);
  }

  markSent(clientId, now = Date.now()) {
    const e = this.entries.get(clientId);
    if (e) e.lastSentAt = now;
    return e;
  }

  markAcked(clientId, seq) {
    const e = this.entries.get(clientId);
    if (e) {
      e.status = 'acked';
      e.seq = seq;
      e.error = null;
    }
    return e;
  }

  markHeld(clientId) {
    const e = this.entries.get(clientId);
    if (e && e.status !== 'acked') {
      e.status = 'held';
      e.error = null;
    }
    return e;
  }

  markRejected(clientId, reason) {
    const e = this.entries.get(clientId);
    if (e && e.status === 'held') {
      e.status = 'rejected';
      e.error = { code: 'rejected', reason: typeof reason === 'string' ? reason : null };
    }
    return e;
  }

  /** The newest entry of a room kept for review, or about to be (no answer yet), or null. */
  newestHeld(roomKey) {
    const held = this.forRoom(roomKey).filter((e) => e.status === 'held' || e.status === 'sending');
    return held.length ? held[held.length - 1] : null;
  }

  markFailed(clientId, error) {
    const e = this.entries.get(clientId);
    if (e && e.status !== 'acked' && e.status !== 'held') {
      e.status = 'failed';
      e.error = error;
    }
    return e;
  }

  markRetrying(clientId) {
    const e = this.entries.get(clientId);
    if (e && e.status === 'failed') {
      e.status = 'sending';
      e.error = null;
      e.lastSentAt = 0;
    }
    return e;
  }

  remove(clientId) {
    return this.entries.delete(clientId);
  }

  /** Entries of one room, oldest first. */
  forRoom(roomKey) {
    return [...this.entries.values()]
      .filter((e) => e.roomKey === roomKey)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Entries still waiting for an `ack` (to (re-)send), oldest first. */
  unacked() {
    return [...this.entries.values()]
      .filter((e) => e.status === 'sending')
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Sent a while ago and still no answer: worth sending again (same client_id). */
  stale(now, afterMs) {
    return this.unacked().filter((e) => e.lastSentAt > 0 && now - e.lastSentAt > afterMs);
  }

  clear() {
    this.entries.clear();
  }
}

/** crypto.randomUUID needs a secure context; fall back to getRandomValues (v4 layout). */
export function newClientId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === 'function') {
    try {
      return globalThis.crypto.randomUUID();
    } catch {
      /* fall through */
    }
  }
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
