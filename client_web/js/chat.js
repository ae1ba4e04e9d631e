// The chat screen: wires its parts together and routes what the WebSocket
// says to them. The parts: the room list (rooms_panel.js), the open room's
// messages (conversation.js) and what can be done with one
// (message_actions.js, reacting.js), how far I have read (read_marker.js),
// joining the room (joins.js), filling holes (catch_up.js), sending
// (sending.js, with outbox.js), the message box (composer.js), presence and
// typing (presence.js), the room's standing (room_status.js), the connection
// banner (banner.js), raising a message with moderators (flag_dialog.js),
// people I muted for myself (personal_mutes.js), notes for me alone
// (notices_view.js, notices.js: warnings, support after a crisis). Room
// bookkeeping lives in room.js, the connection in socket.js, DOM building in
// render.js and the *_view.js modules.

import { arrivalAnnouncements, messagesFromOthers } from './announcements.js';
import { ConnectionBanner } from './banner.js';
import { CatchUp } from './catch_up.js';
import { Composer } from './composer.js';
import { Conversation } from './conversation.js';
import { FlagDialog } from './flag_dialog.js';
import { displayName, excerpt, friendlyError } from './format.js';
import { Joins } from './joins.js';
import { forgetSupport, keepSupport, keptSupport, tabStorage } from './kept_support.js';
import { MessageActions } from './message_actions.js';
import { CRISIS_ANNOUNCEMENT, CRISIS_ANNOUNCEMENT_AWAY, CRISIS_INTRO_AWAY, CRISIS_TITLE, cleanResources, warningNotice } from './notices.js';
import { NoticesView } from './notices_view.js';
import { PendingListView } from './pending_view.js';
import { PersonalMutes } from './personal_mutes.js';
import { Presence } from './presence.js';
import { Reacting } from './reacting.js';
import { ReadMarker } from './read_marker.js';
import { applyLive, isHistoryEvent, isRemoved, isSeq, myNewRole, roomKey } from './room.js';
import { RoomStatus } from './room_status.js';
import { RoomsPanel } from './rooms_panel.js';
import { noteSent, slowSeconds } from './slow_mode.js';
import { Sending } from './sending.js';
import { Connection } from './socket.js';
import { applyRead, countIsOurs } from './unread.js';

const RESEND_CHECK_EVERY_MS = 5000;
const ROOMS_REFRESH_EVERY_MS = 60000; // unread counts of the rooms not joined (only the open one is)

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
    this.storage = tabStorage(); // support cards kept for this tab (kept_support.js)
    this.limits = {};
    /** @type {Map<string, object>} room key -> room (room.js) */
    this.rooms = new Map();
    this.roomOrder = [];
    this.openKey = null;
    this.wasDown = false;
    this.timers = [];
    this.banner = new ConnectionBanner(dom.banner);
    this.notices = new NoticesView(dom.notices);
    this.mutes = new PersonalMutes((ids, changed) => this.mutesChanged(changed));
    this.flags = new FlagDialog(
      {
        dialog: dom.flagDialog,
        form: dom.flagForm,
        title: dom.flagTitle,
        intro: dom.flagIntro,
        quote: dom.flagQuote,
        label: dom.flagLabel,
        reason: dom.flagReason,
        error: dom.flagError,
        submit: dom.flagSubmit,
        cancel: dom.flagCancel,
      },
      { say: (text) => this.tell(text) },
    );

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
    this.roomsPanel = new RoomsPanel(dom, this);
    this.readMarker = new ReadMarker({
      stillSeen: (room) => room === this.openRoom() && this.conversation.latestSeen(),
      moved: (room) => this.readMoved(room),
    });
    this.conversation = new Conversation(dom, this, { seen: (room) => this.readMarker.seen(room) });
    this.reacting = new Reacting(this, (text) => this.say(text));
    this.actions = new MessageActions(dom.messageList, {
      room: () => this.openRoom(),
      meId: () => (this.me ? this.me.id : null),
      react: (room, seq, emoji, on) => this.reacting.react(room, seq, emoji, on),
      reply: (room, seq) => this.startReply(room, seq),
      jump: (seq) => this.conversation.jumpTo(seq) || this.say('That message is further back. Scroll up to load earlier messages.'),
      flag: (kind, room, seq, returnTo) => {
        const ev = room.events.get(seq);
        if (ev && ev.type === 'message' && !isRemoved(room, ev)) this.flags.open(kind, room, ev, returnTo);
      },
      mutedByMe: (userId) => this.mutes.has(userId),
      muteWriter: (room, seq, on) => this.muteWriter(room, seq, on),
      reveal: (room, seq) => {
        this.mutes.reveal(room.key, seq);
        this.conversation.refreshMessages(room, (ev) => ev.seq === seq);
      },
      dismissCrisis: (room, seq) => {
        room.crisis.delete(seq);
        this.saveSupport(room);
        this.conversation.refreshMessages(room, (ev) => ev.seq === seq);
        this.conversation.listView.node(seq)?.focus();
      },
    });
    this.catchUp = new CatchUp(this, (room, added) => this.afterAdded(room, added));
    this.joins = new Joins(this, { conversation: this.conversation, historyStatus: dom.historyStatus });
    this.presence = new Presence(dom, { openKey: () => this.openKey, meId: () => (this.me ? this.me.id : null) });
    this.composer = new Composer(dom, {
      onSubmit: () => this.sending.sendFromComposer(),
      sendTyping: () => this.sendTyping(),
      maxChars: () => this.limits.max_body_chars,
    });
    this.pendingView = new PendingListView(dom.pendingList, {
      onRetry: (id) => this.sending.retry(id),
      onDiscard: (id) => this.sending.discard(id),
      onEdit: (id) => this.sending.edit(id),
      onDismissCrisis: (id) => this.sending.dismissCrisis(id),
    });
    this.sending = new Sending(this, {
      pendingView: this.pendingView,
      pendingList: dom.pendingList,
      composer: this.composer,
      pane: this.conversation,
      announce: (text) => this.hooks.announce(text),
      fetchSoon: (room, delayMs) => this.catchUp.schedule(room, delayMs),
    });
    this.bindDom();
  }

  // ---- lifecycle -------------------------------------------------------

  /** landIn: a cohort id whose room opens first (the one just registered into). */
  start(user, { landIn = null } = {}) {
    this.me = user;
    forgetSupport(this.storage, user ? user.id : null); // someone else's, from this tab: gone
    this.roomsPanel.landing = landIn;
    this.active = true;
    this.conn.start();
    this.timers.push(setInterval(() => this.sending.resendStale(), RESEND_CHECK_EVERY_MS));
    this.timers.push(
      setInterval(() => {
        if (document.visibilityState === 'visible' && this.conn.ready) this.loadRooms();
      }, ROOMS_REFRESH_EVERY_MS),
    );
    this.loadRooms();
    this.mutes.load();
  }

  /** Sign-out or session end. keepOutbox: keep unsent messages for the same person. */
  stop({ keepOutbox = false } = {}) {
    this.active = false;
    this.conn.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.catchUp.stop();
    this.readMarker.stop();
    this.reacting.clear();
    this.actions.close(false);
    this.conversation.stop();
    this.rooms.clear();
    this.roomOrder = [];
    this.openKey = null;
    this.joins.reset();
    this.presence.clear();
    this.composer.clear();
    this.wasDown = false;
    this.status.clear();
    if (!keepOutbox) {
      this.sending.outbox.clear();
      forgetSupport(this.storage); // signed out or deleted: nothing of it stays in this tab
    }
    this.pendingView.clear();
    this.roomsPanel.clear();
    this.showRoomContent(false);
    this.dom.noRoom.firstElementChild.textContent = 'Choose a room to start.';
    this.dom.app.classList.remove('room-open');
    this.banner.clear();
    this.notices.clear();
    this.mutes.clear();
    if (this.dom.flagDialog.open) this.dom.flagDialog.close();
  }

  bindDom() {
    const d = this.dom;
    d.backToRooms.addEventListener('click', () => {
      d.app.classList.remove('room-open');
      this.roomsPanel.render(); // the room left on screen may have new messages now
      d.roomsHeading.focus();
    });
    window.addEventListener('online', () => this.conn.reconnectNow());
    window.addEventListener('focus', () => this.active && this.conversation.checkSeen());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible' || !this.active) return;
      this.conversation.onVisible(); // what came while I was away
      if (!this.conn.ready) this.conn.reconnectNow();
      else this.loadRooms(); // someone may have added us to a room meanwhile
    });
  }

  // ---- rooms -----------------------------------------------------------

  loadRooms() {
    return this.roomsPanel.load();
  }

  openRoom() {
    return this.openKey ? this.rooms.get(this.openKey) || null : null;
  }

  removeRoom(key, notice) {
    const room = this.rooms.get(key);
    if (!room) return;
    this.rooms.delete(key);
    this.roomOrder = this.roomOrder.filter((k) => k !== key);
    this.presence.forget(key);
    this.joins.forget(key);
    this.sending.failRoom(key);
    if (this.openKey === key) {
      this.openKey = null;
      this.conversation.clear();
      this.pendingView.clear();
      this.status.clear();
      this.showRoomContent(false);
      this.dom.noRoom.firstElementChild.textContent = notice || 'Choose a room to start.';
      this.dom.app.classList.remove('room-open');
      if (notice) this.dom.roomsStatus.textContent = notice;
    }
    this.roomsPanel.render();
  }

  async selectRoom(key, { focus = true } = {}) {
    const room = this.rooms.get(key);
    if (!room || !this.active) return;
    const d = this.dom;
    d.app.classList.add('room-open');
    if (this.openKey === key) {
      if (!room.loaded) await this.conversation.loadLatest(room); // an earlier load failed: try again
      if (focus) this.focusRoom();
      return;
    }
    const prev = this.openRoom();
    if (prev) {
      this.presence.forget(prev.key); // stale once we leave; a fresh one follows the next join
      this.joins.leave(prev);
    }
    this.composer.switchRoom(prev ? prev.key : null, key);
    this.actions.close(false);
    this.openKey = key;
    this.joins.joinedKey = null;

    d.roomTitle.textContent = room.name || 'Untitled room';
    this.showRoomContent(true);
    this.roomsPanel.render();
    this.status.show(room);
    this.composer.autosize();
    this.pendingView.clear();
    this.presence.renderPresence();
    this.presence.renderTyping();
    await this.conversation.open(room);
    if (focus && this.openKey === key) this.focusRoom();
  }

  focusRoom() {
    // On touch screens focusing the textarea pops up the keyboard over the
    // conversation; move focus to the room title there instead.
    if (window.matchMedia('(pointer: fine)').matches && this.status.mayPost()) this.composer.focus();
    else this.dom.roomTitle.focus();
  }

  showRoomContent(show) {
    this.dom.roomContent.hidden = !show;
    this.dom.noRoom.hidden = show;
  }

  joinOpenRoom() {
    this.joins.joinOpenRoom();
  }

  /** Answer a message of the open room: the composer shows its quote. */
  startReply(room, seq) {
    const ev = room.events.get(seq);
    if (!ev || ev.type !== 'message' || isRemoved(room, ev)) return;
    this.composer.startReply({ seq, author: ev.author, excerpt: excerpt(ev.body) });
  }

  /** A short note under the composer (announced: the line is a polite live region). */
  say(text, tone = 'error') {
    this.composer.say(text, tone);
  }

  /** A kind note for the reader: under the composer when it shows, else only announced. */
  tell(text) {
    if (this.openRoom() && !this.dom.composer.hidden) this.say(text, 'note');
    else this.hooks.announce(text);
  }

  /** Mute (on) or unmute the writer of a message for me only. */
  async muteWriter(room, seq, on) {
    const ev = room.events.get(seq);
    if (!ev || !ev.author) return;
    const name = displayName(ev.author);
    try {
      await this.mutes.set(ev.author.id, on);
    } catch (err) {
      this.tell(friendlyError(err.code, err.retryAfter));
      return;
    }
    this.tell(
      on
        ? `You muted ${name} for yourself. Their messages fold into a short line you can open; they are not told.`
        : `You unmuted ${name}. Their messages show again.`,
    );
  }

  /** My personal mutes changed (loaded, or one person muted or unmuted): fold or unfold what is on screen. */
  mutesChanged(changed) {
    this.roomsPanel.render(); // latest lines
    const room = this.openRoom();
    if (!room) return;
    const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest('li.msg[data-seq]') : null;
    this.conversation.refreshMessages(room, (ev) => !!ev.author && (changed === null ? this.mutes.has(ev.author.id) : String(ev.author.id) === changed));
    if (focused && !focused.isConnected) this.conversation.listView.node(Number(focused.dataset.seq))?.focus();
  }

  /** Support offered to me privately after a message of mine sounded like a crisis. */
  onCrisisResources(f) {
    const resources = cleanResources(f.resources);
    if (!resources.length) return;
    const room = this.rooms.get(roomKey(f.room));
    const open = !!room && room === this.openRoom();
    let placed = false;
    if (room && isSeq(f.seq)) {
      room.crisis.set(f.seq, resources);
      this.saveSupport(room);
      this.conversation.refreshMessages(room, (ev) => ev.seq === f.seq);
      if (open) this.conversation.revealCrisis(room, f.seq); // the message may arrive just after this frame
      placed = open;
    } else if (room && f.seq === null) {
      placed = this.sending.attachCrisis(room.key, resources) && open;
    }
    if (placed) this.hooks.announce(CRISIS_ANNOUNCEMENT);
    else {
      this.notices.add({ title: CRISIS_TITLE, text: CRISIS_INTRO_AWAY, resources });
      this.hooks.announce(CRISIS_ANNOUNCEMENT_AWAY);
    }
  }

  /** A room just listed: the support offered in it before this page loaded, if this tab kept it. */
  restoreSupport(room) {
    room.crisis = keptSupport(this.storage, this.me ? this.me.id : null, room.key);
  }

  saveSupport(room) {
    keepSupport(this.storage, this.me ? this.me.id : null, room.key, room.crisis);
  }

  onWarning(f) {
    const { title, text } = warningNotice(f);
    this.notices.add({ title, text, tone: 'warn' });
    this.hooks.announce(`${title}. ${text}`);
  }

  /** My read marker in a room moved (here or on another device of mine). */
  readMoved(room) {
    this.roomsPanel.render();
    if (!countIsOurs(room)) this.loadRooms(); // the server knows how many are left unread
  }

  sendTyping() {
    const room = this.openRoom();
    if (!room || !this.joins.isJoined(room.key)) return false;
    return this.conn.send({ type: 'typing', room: room.id });
  }

  // ---- connection events -----------------------------------------------

  onReady(hello) {
    if (!this.active) return;
    if (hello.user && typeof hello.user === 'object') this.me = hello.user;
    if (hello.limits && typeof hello.limits === 'object') this.limits = hello.limits;
    this.joins.reset();
    if (this.wasDown) {
      this.wasDown = false;
      this.banner.back();
      this.loadRooms();
      const open = this.openRoom();
      if (open && !open.loaded) this.conversation.loadLatest(open);
    }
    this.joinOpenRoom();
    this.sending.resendAll();
  }

  onDown() {
    if (!this.active) return;
    this.wasDown = true;
    this.joins.reset();
    this.presence.down();
    this.banner.down();
  }

  onFrame(f) {
    if (!this.active) return;
    switch (f.type) {
      case 'joined': {
        const room = this.joins.onJoined(f);
        if (room) this.status.onJoined(room);
        break;
      }
      case 'ack':
        if (!this.reacting.onAck(f)) this.sending.onAck(f);
        break;
      case 'read': {
        const room = this.rooms.get(roomKey(f.room));
        if (room && applyRead(room, f.last_read_seq)) this.readMoved(room);
        break;
      }
      case 'held':
        this.sending.onHeld(f);
        break;
      case 'held_approved':
        this.sending.onHeldApproved(f);
        break;
      case 'held_rejected':
        this.sending.onHeldRejected(f);
        break;
      case 'crisis_resources':
        this.onCrisisResources(f);
        break;
      case 'muted':
      case 'unmuted':
        this.status.onMuted(f);
        break;
      case 'warning':
        this.onWarning(f);
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
        this.presence.onPresence(roomKey(f.room), f.online);
        break;
      case 'typing':
        if (!(f.user && this.mutes.has(f.user.id))) this.presence.onTyping(roomKey(f.room), f.user); // muted for me: not shown
        break;
      case 'sync':
        this.catchUp.onSync(f);
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
    if (gap) this.catchUp.schedule(room, 0);
  }

  /** Newly held events (live or from a gap fetch): reconcile, show, announce. */
  afterAdded(room, added) {
    this.sending.reconcile(room, added);
    this.sentElsewhere(room, added);
    for (const ev of added) {
      if (ev.type === 'redacted' && this.composer.dropReplyTo(room.key, ev.target) && room.key === this.openKey) {
        this.say('The message you were replying to was removed by a moderator. What you wrote is still in the box.', 'note');
      }
    }
    if (added.some((ev) => ev.type === 'message' || ev.type === 'redacted')) this.roomsPanel.render();
    const role = myNewRole(added, this.me && this.me.id);
    if (role && role !== room.role) {
      const before = room.role;
      room.role = role;
      this.roomsPanel.render();
      this.status.roleChanged(room, before);
    }
    if (room.key !== this.openKey) return;
    const meId = this.me ? this.me.id : null;
    const mineArrived = added.some((ev) => ev.type === 'message' && ev.author && String(ev.author.id) === String(meId));
    this.conversation.showAdded(room, added, mineArrived);
    this.presence.stoppedTyping(room.key, messagesFromOthers(room, added, meId).map((ev) => ev.author));
    const heard = added.filter((ev) => !this.mutes.hides(room.key, ev));
    for (const text of arrivalAnnouncements(room, heard, meId)) this.hooks.announce(text);
  }

  /** A message of mine sent just now from another device starts slow mode's wait here too. */
  sentElsewhere(room, added) {
    if (!slowSeconds(room)) return;
    const meId = this.me ? String(this.me.id) : null;
    const before = room.nextSendAt;
    for (const ev of added) {
      if (ev.type !== 'message' || !ev.author || String(ev.author.id) !== meId) continue;
      const at = Math.min(Date.parse(ev.ts), Date.now());
      if (!Number.isNaN(at) && at + slowSeconds(room) * 1000 > (room.nextSendAt || 0)) noteSent(room, at);
    }
    if (room.nextSendAt !== before) this.status.sent(room);
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

  onError(f) {
    if (this.sending.onError(f) || this.reacting.onError(f)) return;
    if (f.code === 'unauthorized') {
      this.hooks.onSessionEnded();
      return;
    }
    if (this.joins.onError(f)) return;
    // Refused typing frames and the like need nobody's attention.
    if (f.code === 'internal') console.warn('Alongside server error', f);
  }
}
