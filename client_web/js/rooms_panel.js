// The rooms I belong to (GET /api/rooms), merged into what we already hold of
// each, listed in groups with their unread counts and latest lines, and which
// room opens by itself: the cohort room just registered into, or on a wide
// screen (or with a single room) the first room I can post in.

import { api } from './api.js';
import { SYNC_GRACE_MS } from './catch_up.js';
import { untilMs } from './posting.js';
import { createRoom, isBehind, removalReason, roomKey } from './room.js';
import { groupRooms, preferredRoom } from './room_groups.js';
import { renderRoomList } from './room_list_view.js';
import { applyListing, latestLine, unreadCount } from './unread.js';

const WIDE = '(min-width: 720px)';

export class RoomsPanel {
  /**
   * @param {object} dom  elements (see main.js)
   * @param {object} chat  the Chat (active, me, rooms, roomOrder, openKey, openRoom(), selectRoom(), removeRoom(), status,
   *                       catchUp, conversation, restoreSupport())
   */
  constructor(dom, chat) {
    this.dom = dom;
    this.chat = chat;
    this.loadingNow = false;
    this.landing = null; // after registering: the cohort whose room to open first
  }

  /** Fetch the list again (at most one request at a time). */
  async load() {
    if (this.loadingNow) return;
    this.loadingNow = true;
    try {
      await this.fetch();
    } finally {
      this.loadingNow = false;
    }
  }

  async fetch() {
    const d = this.dom;
    const chat = this.chat;
    if (!chat.rooms.size) d.roomsStatus.textContent = 'Loading your rooms…';
    let data;
    try {
      data = await api.rooms();
    } catch (err) {
      if (!chat.active) return;
      if (err.status !== 401) d.roomsStatus.textContent = 'We could not load your rooms. We will try again when the connection is back.';
      return;
    }
    if (!chat.active) return;
    const metas = data && Array.isArray(data.rooms) ? data.rooms.filter((m) => m && m.id !== undefined && m.id !== null) : [];
    const seen = new Set();
    for (const meta of metas) {
      const key = roomKey(meta.id);
      seen.add(key);
      let room = chat.rooms.get(key);
      if (room) this.merge(room, meta);
      else {
        chat.rooms.set(key, (room = createRoom(meta)));
        chat.restoreSupport(room);
      }
      applyListing(room, meta);
      if ('muted_until' in meta) chat.status.setMuted(room, untilMs(meta.muted_until), meta.muted_reason ?? room.mutedReason, { quiet: true });
    }
    for (const key of [...chat.rooms.keys()]) if (!seen.has(key)) chat.removeRoom(key, 'You are no longer a member of this room.');
    chat.roomOrder = metas.map((m) => roomKey(m.id));
    d.roomsStatus.textContent = chat.roomOrder.length ? '' : 'You are not in any rooms yet. Your program team will add you.';
    this.render();

    const open = chat.openRoom();
    const landing = this.landingRoom();
    if (open) {
      d.roomTitle.textContent = open.name;
      if (isBehind(open, open.serverLastSeq)) chat.catchUp.schedule(open, SYNC_GRACE_MS);
    } else if (landing) {
      chat.selectRoom(landing.key); // on every screen size: this is where the person arrives
    } else if (chat.roomOrder.length && (chat.roomOrder.length === 1 || window.matchMedia(WIDE).matches)) {
      const first = preferredRoom(groupRooms(this.listed()));
      if (first) chat.selectRoom(first.key, { focus: false });
    }
  }

  merge(room, meta) {
    const roleBefore = room.role;
    room.name = meta.name ?? room.name;
    room.kind = meta.kind ?? room.kind;
    room.role = meta.role ?? room.role;
    room.cohort = meta.cohort ?? room.cohort;
    if (Number.isInteger(meta.last_seq) && meta.last_seq > room.serverLastSeq) room.serverLastSeq = meta.last_seq;
    this.chat.status.roleChanged(room, roleBefore);
  }

  /** The room of the cohort just registered into (once), if listed. */
  landingRoom() {
    if (this.landing === null) return null;
    const cohort = String(this.landing);
    this.landing = null;
    return this.listed().find((room) => room.kind === 'cohort' && String(room.cohort) === cohort) || null;
  }

  listed() {
    const chat = this.chat;
    return chat.roomOrder.map((k) => chat.rooms.get(k)).filter(Boolean);
  }

  render() {
    const chat = this.chat;
    const meId = chat.me ? chat.me.id : null;
    const describe = (room) => ({
      // The room on screen shows its new messages itself.
      unread: room.key === chat.openKey && chat.conversation.onScreen() ? 0 : unreadCount(room, meId),
      latest: latestLine(room, meId, (ev) => removalReason(room, ev), (id) => chat.mutes.has(id)),
    });
    renderRoomList(this.dom.roomList, groupRooms(this.listed()), chat.openKey, (key) => chat.selectRoom(key), describe);
  }

  clear() {
    this.landing = null;
    this.dom.roomList.replaceChildren();
    this.dom.roomsStatus.textContent = '';
  }
}
