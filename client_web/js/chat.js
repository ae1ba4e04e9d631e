// The chat screen: room list, the open room, the composer, and everything the
// WebSocket says. Room bookkeeping lives in room.js, pending sends in
// outbox.js, the connection in socket.js, DOM building in render.js.

import { api } from './api.js';
import { Connection } from './socket.js';
import { Outbox, newClientId } from './outbox.js';
import {
  applyAfterPage,
  applyBeforePage,
  applyLatestPage,
  applyLive,
  clientIdsOf,
  createRoom,
  hasGap,
  heldEvents,
  isBehind,
  isHistoryEvent,
  isRemoved,
  myNewRole,
  resetRoom,
  roomKey,
} from './room.js';
import { MessageListView, PendingListView, renderRoomList } from './render.js';
import { groupRooms, preferredRoom } from './room_groups.js';
import { RoomStatus } from './room_status.js';
import { clip, displayName, friendlyError, presenceText, typingText } from './format.js';

const PAGE_SIZE = 50;
const GAP_PAGE_SIZE = 200;
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_MS = 4000;
const RESEND_AFTER_MS = 15000;
const SYNC_GRACE_MS = 1500; // let in-flight live frames land before fetching a gap
const NEAR_BOTTOM_PX = 80;
const AUTO_RETRY_CODES = new Set(['rate_limited', 'unavailable']); // the server says: retry later
const MAX_AUTO_RETRIES = 3;
const WIDE = '(min-width: 720px)';

export class Chat {
  /**
   * @param {object} dom  elements (see main.js)
   * @param {{announce: (text: string) => void, onSessionEnded: () => void}} hooks
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.active = false;
    this.me = null;
    this.limits = {};
    /** @type {Map<string, ReturnType<typeof createRoom>>} */
    this.rooms = new Map();
    this.roomOrder = [];
    this.openKey = null;
    this.joinedKey = null; // the open room, once the server answered `joined`
    this.joinedOnConn = new Set(); // rooms we sent `join` for on this connection
    this.joinRefs = new Map(); // ref -> room key
    this.joinSeq = 0;
    this.outbox = new Outbox();
    this.presence = new Map(); // room key -> [PEER]
    this.typing = new Map(); // room key -> Map(user id -> {name, until})
    this.drafts = new Map(); // room key -> unsent text
    this.gapTimers = new Map();
    this.fetchingGap = new Set();
    this.loading = new Map(); // room key -> promise of the first page
    this.joinRetries = new Map();
    this.lastTypingSentAt = 0;
    this.wasDown = false;
    this.timers = [];
    this.bannerTimer = null;

    this.conn = new Connection({
      onReady: (hello) => this.onReady(hello),
      onFrame: (frame) => this.onFrame(frame),
      onDown: () => this.onDown(),
      onSessionEnded: () => this.hooks.onSessionEnded(),
    });
    this.status = new RoomStatus(dom, {
      room: (key) => this.rooms.get(key),
      openRoom: () => this.openRoom(),
      announce: (text) => this.hooks.announce(text),
      focusComposer: () => dom.composerInput.focus(),
    });
    this.landing = null; // after registering: the cohort whose room to open first
    this.listView = new MessageListView(dom.messageList);
    this.pendingView = new PendingListView(dom.pendingList, {
      onRetry: (id) => this.retry(id),
      onDiscard: (id) => this.discard(id),
    });
    this.bindDom();
  }

  // ---- lifecycle -------------------------------------------------------

  /** landIn: a cohort id whose room opens first (the one just registered into). */
  start(user, { landIn = null } = {}) {
    this.me = user;
    this.landing = landIn;
    this.active = true;
    this.conn.start();
    this.timers.push(setInterval(() => this.resendStale(), 5000));
    this.loadRooms();
  }

  /** Sign-out or session end. keepOutbox: keep unsent messages for the same person. */
  stop({ keepOutbox = false } = {}) {
    this.active = false;
    this.conn.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const t of this.gapTimers.values()) clearTimeout(t);
    this.gapTimers.clear();
    this.fetchingGap.clear();
    this.loading.clear();
    this.rooms.clear();
    this.roomOrder = [];
    this.openKey = null;
    this.joinedKey = null;
    this.joinedOnConn.clear();
    this.joinRefs.clear();
    this.presence.clear();
    this.typing.clear();
    this.drafts.clear();
    this.wasDown = false;
    this.landing = null;
    this.status.clear();
    if (!keepOutbox) this.outbox.clear();
    this.listView.clear();
    this.pendingView.clear();
    this.dom.roomList.replaceChildren();
    this.dom.roomsStatus.textContent = '';
    this.dom.composerInput.value = '';
    this.dom.composerError.textContent = '';
    this.showRoomContent(false);
    this.dom.noRoom.firstElementChild.textContent = 'Choose a room to start.';
    this.dom.app.classList.remove('room-open');
    this.setBanner('');
  }

  // ---- DOM wiring ------------------------------------------------------

  bindDom() {
    const d = this.dom;
    d.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.sendFromComposer();
    });
    d.composerInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.ctrlKey && !ev.altKey && !ev.metaKey && !ev.isComposing) {
        ev.preventDefault();
        this.sendFromComposer();
      }
    });
    d.composerInput.addEventListener('input', () => {
      this.autosize();
      this.checkLength();
      this.maybeSendTyping();
    });
    d.loadEarlier.addEventListener('click', () => this.loadEarlier(true));
    d.scroller.addEventListener('scroll', () => {
      this.stickToBottom = this.isNearBottom();
      if (d.scroller.scrollTop < 40) this.loadEarlier(false);
      if (this.stickToBottom) d.jumpLatest.hidden = true;
    }, { passive: true });
    // When the visible area changes size (the on-screen keyboard, a longer
    // composer, the presence line), a reader at the bottom stays at the bottom.
    this.stickToBottom = true;
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => {
        if (this.stickToBottom && !d.roomContent.hidden) d.scroller.scrollTop = d.scroller.scrollHeight;
      }).observe(d.scroller);
    }
    d.jumpLatest.addEventListener('click', () => {
      this.scrollToBottom();
      d.jumpLatest.hidden = true;
      d.composerInput.focus();
    });
    d.backToRooms.addEventListener('click', () => {
      d.app.classList.remove('room-open');
      d.roomsHeading.focus();
    });
    window.addEventListener('online', () => this.conn.reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible' || !this.active) return;
      if (!this.conn.ready) this.conn.reconnectNow();
      else this.loadRooms(); // someone may have added us to a room meanwhile
    });
  }

  // ---- rooms -----------------------------------------------------------

  async loadRooms() {
    if (this.roomsLoading) return;
    this.roomsLoading = true;
    try {
      await this.fetchRooms();
    } finally {
      this.roomsLoading = false;
    }
  }

  async fetchRooms() {
    const d = this.dom;
    if (!this.rooms.size) d.roomsStatus.textContent = 'Loading your rooms…';
    let data;
    try {
      data = await api.rooms();
    } catch (err) {
      if (!this.active) return;
      if (err.status !== 401) d.roomsStatus.textContent = 'We could not load your rooms. We will try again when the connection is back.';
      return;
    }
    if (!this.active) return;
    const metas = data && Array.isArray(data.rooms) ? data.rooms : [];
    const seen = new Set();
    for (const meta of metas) {
      if (!meta || meta.id === undefined || meta.id === null) continue;
      const key = roomKey(meta.id);
      seen.add(key);
      const room = this.rooms.get(key);
      if (room) {
        const roleBefore = room.role;
        room.name = meta.name ?? room.name;
        room.kind = meta.kind ?? room.kind;
        room.role = meta.role ?? room.role;
        room.cohort = meta.cohort ?? room.cohort;
        if (Number.isInteger(meta.last_seq) && meta.last_seq > room.serverLastSeq) room.serverLastSeq = meta.last_seq;
        this.status.roleChanged(room, roleBefore);
      } else {
        this.rooms.set(key, createRoom(meta));
      }
    }
    for (const key of [...this.rooms.keys()]) if (!seen.has(key)) this.removeRoom(key, 'You are no longer a member of this room.');
    this.roomOrder = metas.filter((m) => m && m.id != null).map((m) => roomKey(m.id));
    d.roomsStatus.textContent = this.roomOrder.length ? '' : 'You are not in any rooms yet. Your program team will add you.';
    this.renderRooms();

    const open = this.openRoom();
    const landing = this.landingRoom();
    if (open) {
      d.roomTitle.textContent = open.name;
      if (isBehind(open, open.serverLastSeq)) this.scheduleGapFetch(open, SYNC_GRACE_MS);
    } else if (landing) {
      this.selectRoom(landing.key); // on every screen size: this is where the person arrives
    } else if (this.roomOrder.length && (this.roomOrder.length === 1 || window.matchMedia(WIDE).matches)) {
      const first = preferredRoom(groupRooms(this.listedRooms()));
      if (first) this.selectRoom(first.key, { focus: false });
    }
  }

  /** The room of the cohort just registered into (once), if listed. */
  landingRoom() {
    if (this.landing === null) return null;
    const cohort = String(this.landing);
    this.landing = null;
    return this.listedRooms().find((room) => room.kind === 'cohort' && String(room.cohort) === cohort) || null;
  }

  listedRooms() {
    return this.roomOrder.map((k) => this.rooms.get(k)).filter(Boolean);
  }

  renderRooms() {
    renderRoomList(this.dom.roomList, groupRooms(this.listedRooms()), this.openKey, (key) => this.selectRoom(key));
  }

  openRoom() {
    return this.openKey ? this.rooms.get(this.openKey) || null : null;
  }

  removeRoom(key, notice) {
    const room = this.rooms.get(key);
    if (!room) return;
    this.rooms.delete(key);
    this.roomOrder = this.roomOrder.filter((k) => k !== key);
    this.presence.delete(key);
    this.typing.delete(key);
    this.joinedOnConn.delete(key);
    for (const e of this.outbox.forRoom(key)) if (e.status !== 'failed') this.outbox.markFailed(e.clientId, { code: 'not_member' });
    if (this.openKey === key) {
      this.openKey = null;
      this.joinedKey = null;
      this.listView.clear();
      this.pendingView.clear();
      this.status.clear();
      this.showRoomContent(false);
      this.dom.noRoom.firstElementChild.textContent = notice || 'Choose a room to start.';
      this.dom.app.classList.remove('room-open');
      if (notice) this.dom.roomsStatus.textContent = notice;
    }
    this.renderRooms();
  }

  async selectRoom(key, { focus = true } = {}) {
    const room = this.rooms.get(key);
    if (!room || !this.active) return;
    const d = this.dom;
    d.app.classList.add('room-open');
    if (this.openKey === key) {
      if (!room.loaded) await this.loadLatest(room); // an earlier load failed: try again
      if (focus) this.focusRoom();
      return;
    }
    // Leave the previous room (its state is kept; coming back re-joins with `since`).
    const prev = this.openRoom();
    if (prev) {
      this.drafts.set(prev.key, d.composerInput.value);
      this.presence.delete(prev.key); // stale once we leave; a fresh one follows the next join
      this.typing.delete(prev.key);
      if (this.joinedOnConn.has(prev.key)) {
        this.conn.send({ type: 'leave', room: prev.id, ref: `leave:${prev.key}` });
        this.joinedOnConn.delete(prev.key);
      }
    }
    this.openKey = key;
    this.joinedKey = null;
    this.lastTypingSentAt = 0;
    this.renderRooms();

    d.roomTitle.textContent = room.name || 'Untitled room';
    d.composerInput.value = this.drafts.get(key) || '';
    d.composerError.textContent = '';
    d.historyStatus.textContent = '';
    d.jumpLatest.hidden = true;
    this.showRoomContent(true);
    this.status.show(room);
    this.autosize();
    this.listView.clear();
    this.pendingView.clear();
    this.renderPresence();
    this.renderTyping();

    if (room.loaded) {
      this.renderOpenRoomFull();
      this.scrollToBottom();
      this.joinOpenRoom();
    } else {
      d.loadEarlier.hidden = true;
      d.historyStatus.textContent = 'Loading messages…';
      this.renderPending();
      await this.loadLatest(room);
    }
    if (focus && this.openKey === key) this.focusRoom();
  }

  focusRoom() {
    // On touch screens focusing the textarea pops up the keyboard over the
    // conversation; move focus to the room title there instead.
    if (window.matchMedia('(pointer: fine)').matches && this.status.mayPost()) this.dom.composerInput.focus();
    else this.dom.roomTitle.focus();
  }

  showRoomContent(show) {
    this.dom.roomContent.hidden = !show;
    this.dom.noRoom.hidden = show;
  }

  loadLatest(room) {
    if (this.loading.has(room.key)) return this.loading.get(room.key);
    const p = (async () => {
      let data;
      try {
        data = await api.messages(room.id, { limit: PAGE_SIZE });
      } catch (err) {
        if (!this.active || this.rooms.get(room.key) !== room) return;
        this.onHistoryError(room, err);
        return;
      }
      if (!this.active || this.rooms.get(room.key) !== room) return;
      const added = applyLatestPage(room, data && data.messages, data && data.has_more);
      this.reconcile(room, added);
      if (this.openKey === room.key) {
        this.dom.historyStatus.textContent = '';
        this.renderOpenRoomFull();
        this.scrollToBottom();
      }
      this.joinOpenRoom();
    })().finally(() => this.loading.delete(room.key));
    this.loading.set(room.key, p);
    return p;
  }

  onHistoryError(room, err) {
    if (err.status === 403) {
      this.removeRoom(room.key, 'You are no longer a member of that room.');
      return;
    }
    if (this.openKey === room.key) {
      this.dom.historyStatus.textContent =
        err.code === 'network' ? 'We could not load the messages. We will try again when the connection is back.' : friendlyError(err.code, err.retryAfter);
    }
  }

  renderOpenRoomFull() {
    const room = this.openRoom();
    if (!room) return;
    this.listView.clear();
    this.listView.insert(heldEvents(room), this.renderCtx(room));
    this.renderPending();
    this.updateEarlierControls();
  }

  renderCtx(room) {
    return {
      meId: this.me ? this.me.id : null,
      isRemoved: (ev) => isRemoved(room, ev),
      getEvent: (seq) => room.events.get(seq),
    };
  }

  updateEarlierControls() {
    const room = this.openRoom();
    const d = this.dom;
    if (!room || !room.loaded) {
      d.loadEarlier.hidden = true;
      return;
    }
    d.loadEarlier.hidden = !room.hasMoreBefore;
    if (!room.hasMoreBefore) d.historyStatus.textContent = room.events.size ? 'This is the beginning of the conversation.' : 'No messages yet. You could say hello.';
  }

  async loadEarlier(fromButton) {
    const room = this.openRoom();
    if (!room || !room.loaded || !room.hasMoreBefore || room.loadingEarlier || room.firstSeq === null) return;
    const d = this.dom;
    room.loadingEarlier = true;
    d.historyStatus.textContent = 'Loading earlier messages…';
    try {
      const data = await api.messages(room.id, { before: room.firstSeq, limit: PAGE_SIZE });
      if (!this.active || this.rooms.get(room.key) !== room) return;
      const added = applyBeforePage(room, data && data.messages, data && data.has_more);
      if (this.openKey === room.key) {
        d.historyStatus.textContent = '';
        this.updateEarlierControls();
        const sc = d.scroller;
        const prevHeight = sc.scrollHeight;
        const prevTop = sc.scrollTop;
        this.listView.insert(added, this.renderCtx(room));
        sc.scrollTop = prevTop + (sc.scrollHeight - prevHeight); // keep what the reader was looking at
        if (fromButton && d.loadEarlier.hidden) d.scroller.focus();
      }
    } catch (err) {
      if (this.openKey === room.key && err.status !== 401) d.historyStatus.textContent = 'We could not load earlier messages. Please try again.';
    } finally {
      room.loadingEarlier = false;
    }
  }

  // ---- joining ---------------------------------------------------------

  joinOpenRoom() {
    const room = this.openRoom();
    if (!room || !room.loaded || !this.conn.ready) return;
    const ref = `join:${room.key}:${++this.joinSeq}`;
    this.joinRefs.set(ref, room.key);
    if (this.conn.send({ type: 'join', room: room.id, since: room.lastSeq, ref })) this.joinedOnConn.add(room.key);
  }

  onJoined(f) {
    const key = this.joinRefs.get(f.ref) ?? roomKey(f.room);
    this.joinRefs.delete(f.ref);
    const room = this.rooms.get(key);
    if (!room) return;
    this.joinRetries.delete(key);
    if (Number.isInteger(f.last_seq) && f.last_seq > room.serverLastSeq) room.serverLastSeq = f.last_seq;
    if (key === this.openKey) this.joinedKey = key;
    this.status.onJoined(room);
  }

  onJoinError(key, f) {
    const room = this.rooms.get(key);
    if (!room) return;
    this.joinedOnConn.delete(key);
    const tries = (this.joinRetries.get(key) || 0) + 1;
    this.joinRetries.set(key, tries);
    if (f.code === 'not_member' || f.code === 'forbidden') {
      this.removeRoom(key, 'You are no longer a member of that room.');
      return;
    }
    if (tries > 5) {
      if (key === this.openKey) this.dom.historyStatus.textContent = 'We could not open this room. Please reload the page.';
      return;
    }
    if (f.code === 'invalid') {
      // Our `since` is ahead of the server (its history changed): start over.
      resetRoom(room);
      if (key === this.openKey) {
        this.listView.clear();
        this.loadLatest(room);
      }
      return;
    }
    const wait = f.code === 'rate_limited' && Number(f.retry_after) > 0 ? Number(f.retry_after) * 1000 : 2000 * tries;
    setTimeout(() => {
      if (this.active && this.openKey === key && this.joinedKey !== key) this.joinOpenRoom();
    }, wait);
  }

  // ---- connection events -----------------------------------------------

  onReady(hello) {
    if (!this.active) return;
    if (hello.user && typeof hello.user === 'object') this.me = hello.user;
    if (hello.limits && typeof hello.limits === 'object') this.limits = hello.limits;
    this.joinedKey = null;
    this.joinedOnConn.clear();
    this.joinRefs.clear();
    if (this.wasDown) {
      this.wasDown = false;
      this.setBanner('Connected again.', 'ok');
      clearTimeout(this.bannerTimer);
      this.bannerTimer = setTimeout(() => this.setBanner(''), 3000);
      this.loadRooms();
      const open = this.openRoom();
      if (open && !open.loaded) this.loadLatest(open);
    }
    this.joinOpenRoom();
    for (const entry of this.outbox.unacked()) this.transmit(entry);
  }

  onDown() {
    if (!this.active) return;
    this.wasDown = true;
    this.joinedKey = null;
    this.joinedOnConn.clear();
    this.joinRefs.clear();
    this.presence.clear();
    this.typing.clear();
    this.renderPresence();
    this.renderTyping();
    clearTimeout(this.bannerTimer);
    this.setBanner('Connection lost — reconnecting…', 'warn');
  }

  setBanner(text, tone) {
    const b = this.dom.banner;
    b.textContent = text;
    b.dataset.tone = tone || '';
    b.classList.toggle('banner-visible', !!text);
  }

  onFrame(f) {
    if (!this.active) return;
    switch (f.type) {
      case 'joined':
        this.onJoined(f);
        break;
      case 'ack':
        this.onAck(f);
        break;
      case 'held':
        this.onHeld(f);
        break;
      case 'room_state':
        this.status.onRoomState(f);
        break;
      case 'observing':
        this.status.onObserving(f);
        break;
      case 'error':
        this.onError(f);
        break;
      case 'presence':
        this.onPresence(f);
        break;
      case 'typing':
        this.onTyping(f);
        break;
      case 'sync':
        this.onSync(f);
        break;
      case 'left':
        this.onLeft(f);
        break;
      case 'rooms_changed':
        this.loadRooms(); // e.g. graduation opened the alumni room, or made a room read-only
        break;
      case 'enrollment':
        this.onEnrollment(f);
        break;
      default:
        if (isHistoryEvent(f) && f.room !== undefined && f.room !== null) this.onRoomEvent(f);
    }
  }

  onRoomEvent(f) {
    const room = this.rooms.get(roomKey(f.room));
    if (!room) {
      this.loadRooms(); // a room we did not know about yet
      return;
    }
    if (!room.loaded) return; // its first page (loading now) will include it
    const { added, gap } = applyLive(room, f);
    if (added) this.afterAdded(room, [added]);
    if (gap) this.scheduleGapFetch(room, 0);
  }

  /** Newly held events (live or from a gap fetch): reconcile, show, announce. */
  afterAdded(room, added) {
    this.reconcile(room, added);
    const role = myNewRole(added, this.me && this.me.id);
    if (role && role !== room.role) {
      const before = room.role;
      room.role = role;
      this.renderRooms();
      this.status.roleChanged(room, before);
    }
    if (room.key !== this.openKey) return;
    const wasNearBottom = this.isNearBottom();
    const meId = this.me ? String(this.me.id) : null;
    const mineArrived = added.some((ev) => ev.type === 'message' && ev.author && String(ev.author.id) === meId);
    const nodes = this.listView.insert(added, this.renderCtx(room));
    this.renderPending();
    if (wasNearBottom || mineArrived) this.scrollToBottom();
    else if (nodes.length) this.dom.jumpLatest.hidden = false;

    const fromOthers = added.filter((ev) => ev.type === 'message' && !(ev.author && String(ev.author.id) === meId) && !isRemoved(room, ev));
    const typists = this.typing.get(room.key);
    for (const ev of fromOthers) if (typists && ev.author) typists.delete(String(ev.author.id));
    if (fromOthers.length) this.renderTyping();
    if (fromOthers.length > 3) this.hooks.announce(`${fromOthers.length} new messages in ${room.name}.`);
    else for (const ev of fromOthers) this.hooks.announce(`${displayName(ev.author)}: ${clip(ev.body)}`);
    if (added.some((ev) => ev.type === 'redacted')) this.hooks.announce('A message was removed by a moderator.');
  }

  /** Pending sends whose message is now in the room are done. */
  reconcile(room, added) {
    let changed = false;
    for (const id of clientIdsOf(added)) if (this.outbox.remove(id)) changed = true;
    for (const e of this.outbox.forRoom(room.key)) {
      if (e.status === 'acked' && room.events.has(e.seq)) {
        this.outbox.remove(e.clientId);
        changed = true;
      }
    }
    return changed;
  }

  scheduleGapFetch(room, delayMs) {
    if (this.gapTimers.has(room.key) || this.fetchingGap.has(room.key)) return;
    const t = setTimeout(() => {
      this.gapTimers.delete(room.key);
      if (this.active && this.rooms.get(room.key) === room && (hasGap(room) || isBehind(room, room.serverLastSeq))) this.fetchGap(room);
    }, delayMs);
    this.gapTimers.set(room.key, t);
  }

  async fetchGap(room) {
    if (this.fetchingGap.has(room.key) || !room.loaded) return;
    this.fetchingGap.add(room.key);
    try {
      for (let i = 0; i < 50; i += 1) {
        const from = room.lastSeq;
        const data = await api.messages(room.id, { after: from, limit: GAP_PAGE_SIZE });
        if (!this.active || this.rooms.get(room.key) !== room) return;
        const added = applyAfterPage(room, data && data.messages, data && data.has_more);
        if (added.length) this.afterAdded(room, added);
        if (!(data && data.has_more) || room.lastSeq === from) break;
      }
    } catch (err) {
      // The next `sync` (or reconnect) will try again.
      if (err.status === 403) this.removeRoom(room.key, 'You are no longer a member of that room.');
    } finally {
      this.fetchingGap.delete(room.key);
    }
  }

  onSync(f) {
    const room = this.rooms.get(roomKey(f.room));
    if (!room || !room.loaded || !Number.isInteger(f.last_seq)) return;
    if (f.last_seq > room.serverLastSeq) room.serverLastSeq = f.last_seq;
    if (isBehind(room, f.last_seq)) this.scheduleGapFetch(room, SYNC_GRACE_MS);
  }

  onEnrollment(f) {
    const said = { alumni: 'You have graduated. Welcome to the alumni rooms.', active: 'Welcome back to your program.' };
    if (said[f.status]) this.hooks.announce(said[f.status]);
  }

  onLeft(f) {
    const key = roomKey(f.room);
    if (f.reason === 'removed') {
      const room = this.rooms.get(key);
      this.removeRoom(key, 'You were removed from this room.');
      if (room) this.hooks.announce(`You were removed from ${room.name}.`);
    }
  }

  onPresence(f) {
    const key = roomKey(f.room);
    this.presence.set(key, Array.isArray(f.online) ? f.online : []);
    if (key === this.openKey) this.renderPresence();
  }

  renderPresence() {
    const peers = this.openKey ? this.presence.get(this.openKey) : null;
    this.dom.presence.textContent = peers ? presenceText(peers, this.me && this.me.id) : '';
  }

  onTyping(f) {
    if (!f.user || typeof f.user !== 'object') return;
    if (this.me && String(f.user.id) === String(this.me.id)) return;
    const key = roomKey(f.room);
    let map = this.typing.get(key);
    if (!map) {
      map = new Map();
      this.typing.set(key, map);
    }
    map.set(String(f.user.id), { name: displayName(f.user), until: Date.now() + TYPING_SHOW_MS });
    if (key === this.openKey) {
      this.renderTyping();
      setTimeout(() => this.renderTyping(), TYPING_SHOW_MS + 50);
    }
  }

  renderTyping() {
    const map = this.openKey ? this.typing.get(this.openKey) : null;
    const now = Date.now();
    const names = [];
    if (map) {
      for (const [id, t] of map) {
        if (t.until > now) names.push(t.name);
        else map.delete(id);
      }
    }
    this.dom.typing.textContent = typingText(names);
  }

  // ---- sending ---------------------------------------------------------

  sendFromComposer() {
    const room = this.openRoom();
    const d = this.dom;
    if (!room) return;
    const body = d.composerInput.value.trim();
    if (!body || !this.status.mayPost()) return;
    if (this.overLimit(body) > 0) {
      this.checkLength();
      return;
    }
    const entry = this.outbox.add(room.key, room.id, body, newClientId());
    d.composerInput.value = '';
    d.composerError.textContent = '';
    this.drafts.delete(room.key);
    this.autosize();
    this.renderPending();
    this.scrollToBottom();
    this.transmit(entry);
  }

  /** Send (or re-send, same client_id) one outbox entry if connected. */
  transmit(entry) {
    const frame = { type: 'send', room: entry.roomId, body: entry.body, client_id: entry.clientId, ref: entry.clientId };
    if (this.conn.send(frame)) this.outbox.markSent(entry.clientId);
  }

  resendStale() {
    if (!this.conn.ready) return;
    for (const e of this.outbox.stale(Date.now(), RESEND_AFTER_MS)) this.transmit(e);
  }

  retry(clientId, { auto = false } = {}) {
    const e = this.outbox.markRetrying(clientId);
    if (!e) return;
    if (!auto) e.autoRetries = 0;
    this.renderPending();
    if (!auto) this.dom.composerInput.focus();
    this.transmit(e);
  }

  discard(clientId) {
    this.outbox.remove(clientId);
    this.renderPending();
    this.dom.composerInput.focus();
  }

  onAck(f) {
    const id = typeof f.client_id === 'string' ? f.client_id : f.ref;
    const entry = this.outbox.get(id);
    if (!entry) return;
    const room = this.rooms.get(entry.roomKey);
    if (!room || room.events.has(f.seq) || room.key !== this.openKey) {
      // Already shown, or it will arrive with the room's history when opened.
      this.outbox.remove(id);
    } else {
      this.outbox.markAcked(id, f.seq);
      if (Number.isInteger(f.seq) && f.seq > room.serverLastSeq) room.serverLastSeq = f.seq;
      // Normally the message itself follows at once; if not, fetch it.
      this.scheduleGapFetch(room, SYNC_GRACE_MS * 2);
    }
    if (entry.roomKey === this.openKey) this.renderPending();
  }

  /** The message is kept for a moderator's review: only I see it, and it is not sent again. */
  onHeld(f) {
    const id = typeof f.client_id === 'string' ? f.client_id : f.ref;
    const known = this.outbox.get(id);
    if (!known || known.status === 'held') return; // a re-send answered again: nothing new
    const entry = this.outbox.markHeld(id);
    if (entry.roomKey !== this.openKey) return;
    this.renderPending();
    this.hooks.announce('Your message is waiting for a moderator’s review. Only you can see it for now.');
  }

  onError(f) {
    const id =
      typeof f.client_id === 'string' && this.outbox.has(f.client_id) ? f.client_id : this.outbox.has(f.ref) ? f.ref : null;
    if (id) {
      const entry = this.outbox.markFailed(id, { code: f.code, message: f.message, retryAfter: f.retry_after, until: f.until });
      if (!entry || entry.status !== 'failed') return;
      const room = this.rooms.get(entry.roomKey);
      if (room) this.status.refused(room, f.code, f.until);
      if (f.code === 'read_only') this.loadRooms(); // our idea of my role was out of date
      // When the server says "later" (rate limit, storage briefly down), try again
      // by ourselves a few times; the Retry button stays available meanwhile.
      entry.autoRetries = entry.autoRetries || 0;
      const firstFailure = entry.autoRetries === 0;
      if (AUTO_RETRY_CODES.has(f.code) && entry.autoRetries < MAX_AUTO_RETRIES) {
        entry.autoRetries += 1;
        const waitMs = (Number(f.retry_after) > 0 ? Number(f.retry_after) * 1000 : 2000 * entry.autoRetries) + Math.random() * 500;
        setTimeout(() => {
          const e = this.outbox.get(id);
          if (this.active && e && e.status === 'failed') this.retry(id, { auto: true });
        }, waitMs);
      }
      if (entry.roomKey === this.openKey) {
        this.renderPending();
        if (firstFailure) this.hooks.announce(`Message not sent. ${friendlyError(f.code, f.retry_after)}`);
      }
      return;
    }
    if (f.code === 'unauthorized') {
      this.hooks.onSessionEnded();
      return;
    }
    if (this.joinRefs.has(f.ref)) {
      const key = this.joinRefs.get(f.ref);
      this.joinRefs.delete(f.ref);
      this.onJoinError(key, f);
      return;
    }
    // Refused typing frames and the like need nobody's attention.
    if (f.code === 'internal') console.warn('Alongside server error', f);
  }

  renderPending() {
    const entries = this.openKey ? this.outbox.forRoom(this.openKey) : [];
    const active = document.activeElement;
    const hadFocus = active && this.dom.pendingList.contains(active);
    const stick = this.stickToBottom || this.isNearBottom();
    this.pendingView.render(entries, { meName: this.me && this.me.display_name });
    if (stick) this.scrollToBottom(); // a failure note makes the item taller: keep it in view
    if (hadFocus && !this.dom.pendingList.contains(document.activeElement)) this.dom.composerInput.focus();
  }

  maybeSendTyping() {
    const room = this.openRoom();
    if (!room || this.joinedKey !== room.key || !this.dom.composerInput.value.trim()) return;
    const now = Date.now();
    if (now - this.lastTypingSentAt < TYPING_SEND_EVERY_MS) return;
    if (this.conn.send({ type: 'typing', room: room.id })) this.lastTypingSentAt = now;
  }

  overLimit(text) {
    const max = Number(this.limits.max_body_chars);
    if (!max) return 0;
    return [...text].length - max;
  }

  checkLength() {
    const over = this.overLimit(this.dom.composerInput.value.trim());
    this.dom.composerError.textContent =
      over > 0 ? `This message is ${over} character${over === 1 ? '' : 's'} too long. You could split it into smaller parts.` : '';
    this.dom.composerInput.setAttribute('aria-invalid', over > 0 ? 'true' : 'false');
  }

  // ---- scrolling -------------------------------------------------------

  isNearBottom() {
    const sc = this.dom.scroller;
    return sc.scrollHeight - sc.scrollTop - sc.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    const sc = this.dom.scroller;
    sc.scrollTop = sc.scrollHeight;
    this.stickToBottom = true;
    this.dom.jumpLatest.hidden = true;
  }

  autosize() {
    const ta = this.dom.composerInput;
    ta.style.height = 'auto';
    ta.style.height = `${Math.min(ta.scrollHeight + 2, 160)}px`;
  }
}
