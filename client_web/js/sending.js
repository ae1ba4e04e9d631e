// Sending messages: from the composer into the outbox (outbox.js), onto the
// socket, and through the server's answers (`ack`, `held`, a refusal) until
// the stored message itself arrives in the room. A message keeps its client_id
// through every re-send, so nothing is doubled; what the server refuses stays
// on screen with Retry and Discard, so nothing is lost.

import { friendlyError } from './format.js';
import { APPROVED_ANNOUNCEMENT, rejectedText } from './notices.js';
import { Outbox, newClientId } from './outbox.js';
import { durationText, noteSent, waitSeconds } from './slow_mode.js';

const RESEND_AFTER_MS = 15000;
const ACK_GRACE_MS = 3000; // the acked message normally follows at once; fetch it if not
const AUTO_RETRY_CODES = new Set(['rate_limited', 'unavailable', 'slow_mode']); // the server says: retry later
const MAX_AUTO_RETRIES = 3;

export class Sending {
  /**
   * @param {object} chat  the Chat (rooms, openRoom(), conn, status, me, active, loadRooms())
   * @param {{pendingView: object, pendingList: HTMLElement, composer: object, pane: object,
   *          announce: (text: string) => void, fetchSoon: (room: object, delayMs: number) => void}} parts
   */
  constructor(chat, parts) {
    this.chat = chat;
    this.parts = parts;
    this.outbox = new Outbox();
  }

  /** The composer's text becomes an outbox entry and goes out (if connected). */
  sendFromComposer() {
    const chat = this.chat;
    const { composer } = this.parts;
    const room = chat.openRoom();
    if (!room) return;
    const body = composer.text();
    if (!body || !chat.status.mayPost()) return;
    if (composer.overLimit(body) > 0) {
      composer.checkLength();
      return;
    }
    const wait = waitSeconds(room);
    if (wait > 0) {
      // Slow mode: the words stay in the box until they may go.
      composer.say(`Slow mode is on here. Your message is kept in the box: you can send it in ${durationText(wait)}.`, 'note');
      return;
    }
    const entry = this.outbox.add(room.key, room.id, body, newClientId(), composer.reply());
    composer.sent(room.key);
    noteSent(room);
    chat.status.sent(room);
    this.renderPending();
    this.parts.pane.scrollToBottom();
    this.transmit(entry);
  }

  /** Send (or re-send, same client_id) one outbox entry if connected. */
  transmit(entry) {
    const frame = { type: 'send', room: entry.roomId, body: entry.body, client_id: entry.clientId, ref: entry.clientId };
    if (entry.replyTo) frame.reply_to = entry.replyTo.seq;
    if (this.chat.conn.send(frame)) this.outbox.markSent(entry.clientId);
  }

  /** Connected (again): everything not acknowledged goes out, oldest first. */
  resendAll() {
    for (const entry of this.outbox.unacked()) this.transmit(entry);
  }

  resendStale() {
    if (!this.chat.conn.ready) return;
    for (const e of this.outbox.stale(Date.now(), RESEND_AFTER_MS)) this.transmit(e);
  }

  retry(clientId, { auto = false } = {}) {
    const e = this.outbox.markRetrying(clientId);
    if (!e) return;
    if (!auto) e.autoRetries = 0;
    this.renderPending();
    if (!auto) this.parts.composer.focus();
    this.transmit(e);
  }

  discard(clientId) {
    this.outbox.remove(clientId);
    this.renderPending();
    this.parts.composer.focus();
  }

  /** Pending sends whose message is now in the room are done. */
  reconcile(room, added) {
    let changed = false;
    for (const ev of added) {
      const entry = ev.type === 'message' && typeof ev.client_id === 'string' ? this.outbox.get(ev.client_id) : null;
      if (!entry) continue;
      if (entry.crisis) room.crisis.set(ev.seq, entry.crisis); // the support card follows the message
      // A message held for review arrives once a moderator approved it (maybe before `held_approved`).
      if (entry.status === 'held' && room.key === this.chat.openKey) this.parts.announce(APPROVED_ANNOUNCEMENT);
      this.outbox.remove(ev.client_id);
      changed = true;
    }
    for (const e of this.outbox.forRoom(room.key)) {
      if (e.status === 'acked' && room.events.has(e.seq)) {
        this.outbox.remove(e.clientId);
        changed = true;
      }
    }
    return changed;
  }

  /** The room is gone: what was waiting for it cannot be sent. */
  failRoom(key) {
    for (const e of this.outbox.forRoom(key)) if (e.status !== 'failed') this.outbox.markFailed(e.clientId, { code: 'not_member' });
  }

  onAck(f) {
    const chat = this.chat;
    const id = typeof f.client_id === 'string' ? f.client_id : f.ref;
    const entry = this.outbox.get(id);
    if (!entry) return;
    const room = chat.rooms.get(entry.roomKey);
    if (!room || room.events.has(f.seq) || room.key !== chat.openKey) {
      // Already shown, or it will arrive with the room's history when opened.
      this.outbox.remove(id);
    } else {
      this.outbox.markAcked(id, f.seq);
      if (Number.isInteger(f.seq) && f.seq > room.serverLastSeq) room.serverLastSeq = f.seq;
      this.parts.fetchSoon(room, ACK_GRACE_MS);
    }
    if (entry.roomKey === chat.openKey) this.renderPending();
  }

  /** The message is kept for a moderator's review: only I see it, and it is not sent again. */
  onHeld(f) {
    const id = typeof f.client_id === 'string' ? f.client_id : f.ref;
    const known = this.outbox.get(id);
    if (!known || known.status === 'held') return; // a re-send answered again: nothing new
    const entry = this.outbox.markHeld(id);
    if (entry.roomKey !== this.chat.openKey) return;
    this.renderPending();
    this.parts.announce('Your message is waiting for a moderator’s review. Only you can see it for now.');
  }

  /** `held_approved`: my held message is published with `seq` (it arrives as a room event). */
  onHeldApproved(f) {
    const entry = this.outbox.get(f.client_id);
    if (!entry || entry.status !== 'held') return; // the message itself came first (reconcile)
    const room = this.chat.rooms.get(entry.roomKey);
    if (room && entry.crisis && Number.isInteger(f.seq)) room.crisis.set(f.seq, entry.crisis); // the card follows the message
    this.outbox.markAcked(f.client_id, f.seq);
    if (room && !room.events.has(f.seq)) this.parts.fetchSoon(room, ACK_GRACE_MS);
    else this.outbox.remove(f.client_id);
    if (entry.roomKey === this.chat.openKey) {
      this.renderPending();
      this.parts.announce(APPROVED_ANNOUNCEMENT);
    }
  }

  /** `held_rejected`: my held message will not be published; its words stay here to edit or discard. */
  onHeldRejected(f) {
    const entry = this.outbox.markRejected(f.client_id, f.reason);
    if (!entry || entry.status !== 'rejected' || entry.roomKey !== this.chat.openKey) return;
    this.renderPending();
    this.parts.announce(rejectedText(f.reason));
  }

  /**
   * Support offered for a message of mine kept for review: shown under the newest one (its `held`
   * answer may come just after). False if none is here.
   */
  attachCrisis(roomKey, resources) {
    const entry = this.outbox.newestHeld(roomKey);
    if (!entry) return false;
    entry.crisis = resources;
    if (roomKey === this.chat.openKey) this.renderPending();
    return true;
  }

  dismissCrisis(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry) return;
    entry.crisis = null;
    this.renderPending();
    this.parts.composer.focus();
  }

  /** A message not approved goes back into the box to be edited (after what is there). */
  edit(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry) return;
    this.outbox.remove(clientId);
    this.renderPending();
    this.parts.composer.restore(entry.body);
  }

  /** An error frame about one of my sends; false when it is about something else. */
  onError(f) {
    const chat = this.chat;
    const id =
      typeof f.client_id === 'string' && this.outbox.has(f.client_id) ? f.client_id : this.outbox.has(f.ref) ? f.ref : null;
    if (!id) return false;
    const entry = this.outbox.markFailed(id, { code: f.code, message: f.message, retryAfter: f.retry_after, until: f.until });
    if (!entry || entry.status !== 'failed') return true;
    if (f.code === 'invalid' && f.field === 'reply_to' && entry.replyTo) {
      // The message it answered is gone (removed): Retry sends it without the quote.
      entry.replyTo = null;
      entry.error.code = 'reply_gone';
    }
    const room = chat.rooms.get(entry.roomKey);
    if (room) chat.status.refused(room, f.code, f.until, f.retry_after);
    if (f.code === 'read_only') chat.loadRooms(); // our idea of my role was out of date
    // When the server says "later" (rate limit, storage briefly down), try again
    // by ourselves a few times; the Retry button stays available meanwhile.
    entry.autoRetries = entry.autoRetries || 0;
    const firstFailure = entry.autoRetries === 0;
    if (AUTO_RETRY_CODES.has(f.code) && entry.autoRetries < MAX_AUTO_RETRIES) {
      entry.autoRetries += 1;
      const waitMs = (Number(f.retry_after) > 0 ? Number(f.retry_after) * 1000 : 2000 * entry.autoRetries) + Math.random() * 500;
      setTimeout(() => {
        const e = this.outbox.get(id);
        if (chat.active && e && e.status === 'failed') this.retry(id, { auto: true });
      }, waitMs);
    }
    if (entry.roomKey === chat.openKey) {
      this.renderPending();
      if (firstFailure) this.parts.announce(`Message not sent. ${friendlyError(f.code, f.retry_after)}`);
    }
    return true;
  }

  /** Show the open room's outbox entries under its messages. */
  renderPending() {
    const { pendingView, pendingList, pane, composer } = this.parts;
    const key = this.chat.openKey;
    const entries = key ? this.outbox.forRoom(key) : [];
    const active = document.activeElement;
    const hadFocus = active && pendingList.contains(active);
    const stick = pane.keepsBottom();
    const me = this.chat.me;
    pendingView.render(entries, { meName: me && me.display_name });
    if (stick) pane.scrollToBottom(); // a failure note makes the item taller: keep it in view
    if (hadFocus && !pendingList.contains(document.activeElement)) composer.focus();
  }
}
