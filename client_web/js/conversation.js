// The open room's messages: its first page, earlier pages as the reader
// scrolls up, new events as they arrive, and where the view stays (at the
// bottom while the reader is there; put nowhere else without asking: a
// "New messages" button appears instead).
//
// The page stays light however long the room: at most WINDOW_MAX events are
// rendered. Scrolling up renders older ones (held, or fetched a page at a
// time) and drops the newest; scrolling back down renders them again and drops
// the oldest. While the newest are not rendered, live events are held but not
// shown, and "New messages" brings the latest back.

import { api } from './api.js';
import { friendlyError } from './format.js';
import { MessageListView, isShown } from './message_list.js';
import { el } from './render.js';
import { reactionSummary } from './reactions.js';
import { RenderWindow } from './render_window.js';
import { applyBeforePage, applyLatestPage, isRemoved, removalReason } from './room.js';
import { firstUnreadSeq } from './timeline.js';
import { firstPageSize } from './unread.js';

const PAGE_SIZE = 50;
const FIRST_PAGE_MAX = 200;
const WINDOW_MAX = 200; // rendered events at most (a few more while the latest stream in)
const CHUNK = 25; // events rendered or dropped at a time: small, so no step is long
const FIRST_RENDER = 100; // events rendered when a room opens
const EDGE_PX = 300; // render or load more when the reader is this close to an end
const NEAR_BOTTOM_PX = 80;
const MAX_EMPTY_PAGES = 10; // pages of reactions only, fetched in a row before waiting for the reader

export class Conversation {
  /**
   * @param {object} dom  elements (see main.js)
   * @param {object} chat  the Chat (active, me, rooms, openKey, openRoom(), joinOpenRoom(), removeRoom(), sending)
   * @param {{seen: (room: object) => void}} hooks  seen: the room's latest event is on screen
   */
  constructor(dom, chat, hooks) {
    this.dom = dom;
    this.chat = chat;
    this.hooks = hooks;
    this.listView = new MessageListView(dom.messageList);
    this.window = new RenderWindow(this.listView);
    this.loading = new Map(); // room key -> promise of the first page
    this.toReveal = new Set(); // "roomKey seq": support cards to bring into view once rendered
    this.atLatest = true; // the newest held events are rendered
    this.dividerAfter = 0; // my read marker when I came to the room
    // When the visible area changes size (the on-screen keyboard, a longer
    // composer, the room's notice), a reader at the bottom stays at the bottom,
    // and one who just arrived keeps "new since you were here" in view until
    // they move (holdDivider), as a writer keeps the top of the support card
    // shown under their message (holdCard: its seq).
    this.stickToBottom = true;
    this.holdDivider = false;
    this.holdCard = null;
    const d = dom;
    d.loadEarlier.addEventListener('click', () => this.loadEarlier(true));
    d.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    for (const type of ['wheel', 'touchstart', 'pointerdown', 'keydown']) {
      d.scroller.addEventListener(
        type,
        () => {
          this.holdDivider = false;
          this.holdCard = null;
        },
        { passive: true },
      );
    }
    // The list grows too when a message off screen is first laid out at its
    // real height (styles.css: content-visibility), e.g. the newest one.
    if (typeof ResizeObserver === 'function') {
      const keep = new ResizeObserver(() => {
        if (d.roomContent.hidden) return;
        if (this.heldCard()) this.scrollToCard();
        else if (this.holdDivider) this.scrollToDivider();
        else if (this.stickToBottom) d.scroller.scrollTop = d.scroller.scrollHeight;
      });
      keep.observe(d.scroller);
      keep.observe(d.messageList);
    }
    d.jumpLatest.addEventListener('click', () => {
      this.scrollToBottom();
      d.composerInput.focus();
    });
  }

  /** Nothing is shown (no room open, or another one opens). */
  clear() {
    this.listView.clear();
    this.setAtLatest(true);
    this.holdDivider = false;
    this.holdCard = null;
  }

  stop() {
    this.loading.clear();
    this.clear();
  }

  /** A room opens: show what we hold of it, or load its latest page. */
  async open(room) {
    const d = this.dom;
    d.historyStatus.textContent = '';
    d.jumpLatest.hidden = true;
    this.clear();
    this.dividerAfter = room.lastReadSeq;
    if (room.loaded) {
      this.showLatest(room, { landing: true });
      this.chat.joinOpenRoom();
      return;
    }
    d.loadEarlier.hidden = true;
    d.historyStatus.textContent = 'Loading messages…';
    this.chat.sending.renderPending();
    await this.loadLatest(room);
  }

  loadLatest(room) {
    const chat = this.chat;
    if (this.loading.has(room.key)) return this.loading.get(room.key);
    const p = (async () => {
      let data;
      try {
        data = await api.messages(room.id, { limit: firstPageSize(room, PAGE_SIZE, FIRST_PAGE_MAX) });
      } catch (err) {
        if (!chat.active || chat.rooms.get(room.key) !== room) return;
        this.onHistoryError(room, err);
        return;
      }
      if (!chat.active || chat.rooms.get(room.key) !== room) return;
      const added = applyLatestPage(room, data && data.messages, data && data.has_more);
      chat.sending.reconcile(room, added);
      if (chat.openKey === room.key) {
        this.dom.historyStatus.textContent = '';
        this.showLatest(room, { landing: true });
      }
      chat.joinOpenRoom();
    })().finally(() => this.loading.delete(room.key));
    this.loading.set(room.key, p);
    return p;
  }

  onHistoryError(room, err) {
    if (err.status === 403) {
      this.chat.removeRoom(room.key, 'You are no longer a member of that room.');
      return;
    }
    if (this.chat.openKey === room.key) {
      this.dom.historyStatus.textContent =
        err.code === 'network' ? 'We could not load the messages. We will try again when the connection is back.' : friendlyError(err.code, err.retryAfter);
    }
  }

  renderCtx(room) {
    const me = this.chat.me;
    const meId = me ? me.id : null;
    const mutes = this.chat.mutes;
    return {
      meId,
      isRemoved: (ev) => isRemoved(room, ev),
      removalReason: (ev) => removalReason(room, ev),
      getEvent: (seq) => room.events.get(seq),
      reactions: (seq) => reactionSummary(room.reactions, seq, meId),
      crisis: (seq) => room.crisis.get(seq) || null,
      hidden: (ev) => !isRemoved(room, ev) && mutes.hides(room.key, ev),
      mutedWriter: (ev) => !!ev.author && mutes.has(ev.author.id),
    };
  }

  /**
   * Support offered under my message (crisis_resources): bring the card's top into view once, now
   * if the message is rendered, else as soon as it is (the frame can come before the message).
   */
  revealCrisis(room, seq) {
    const card = room === this.chat.openRoom() ? this.listView.node(seq)?.querySelector('.crisis-card') : null;
    if (!card) {
      this.toReveal.add(`${room.key} ${seq}`);
      return;
    }
    this.toReveal.delete(`${room.key} ${seq}`);
    // Held there while the message is laid out at its real height and others arrive, until the
    // reader moves.
    this.holdDivider = false;
    this.holdCard = seq;
    this.scrollToCard();
  }

  /** The support card held in view, if it is rendered. */
  heldCard() {
    return this.holdCard === null ? null : this.listView.node(this.holdCard)?.querySelector('.crisis-card') || null;
  }

  scrollToCard() {
    const card = this.heldCard();
    if (!card) return;
    const sc = this.dom.scroller;
    sc.scrollTop += card.getBoundingClientRect().top - sc.getBoundingClientRect().top - 8;
    this.stickToBottom = false;
    if (this.isAtBottom()) this.dom.jumpLatest.hidden = true;
    else this.showJump('Latest messages');
  }

  /** Re-render the open room's rendered messages that `test(ev)` picks (e.g. after a mute for me). */
  refreshMessages(room, test) {
    if (room !== this.chat.openRoom()) return;
    this.listView.refreshWhere(test, this.renderCtx(room));
  }

  /**
   * Render the newest events. Landing (the room just opened): from the
   * "new since you were here" line when there is one, which is scrolled to.
   */
  showLatest(room, { landing = false } = {}) {
    const shown = this.window.shown(room);
    let from = Math.max(0, shown.length - FIRST_RENDER);
    const divider = this.dividerSeq(room);
    if (landing && divider !== null) {
      const at = shown.findIndex((ev) => ev.seq === divider);
      if (at >= 0 && at < from) from = Math.max(0, Math.min(at - 3, shown.length - WINDOW_MAX));
    }
    this.listView.clear();
    this.setAtLatest(true);
    this.listView.insert(shown.slice(from), this.renderCtx(room));
    this.listView.setDivider(divider);
    this.holdDivider = landing && this.listView.has(divider);
    this.stickToBottom = !this.holdDivider;
    this.chat.sending.renderPending();
    this.updateEarlierControls();
    if (this.holdDivider) this.scrollToDivider();
    else this.scrollToBottom();
    this.checkSeen();
  }

  dividerSeq(room) {
    const me = this.chat.me;
    return firstUnreadSeq(this.window.shown(room), this.dividerAfter, me ? me.id : null);
  }

  /**
   * Back to the page after a while away: the days may have changed names, and
   * the line goes where the messages I have not seen start now.
   */
  onVisible() {
    this.listView.relabelDays();
    this.refreshDivider();
    this.checkSeen();
  }

  refreshDivider() {
    const room = this.chat.openRoom();
    if (!room || !room.loaded) return;
    const me = this.chat.me;
    if (firstUnreadSeq(this.window.shown(room), room.lastReadSeq, me ? me.id : null) === null) return;
    this.dividerAfter = room.lastReadSeq;
    this.listView.setDivider(this.dividerSeq(room));
  }

  /**
   * New events of the open room (live or caught up): show them, staying at the
   * bottom when the reader was there or the new message is mine.
   */
  showAdded(room, added, mineArrived) {
    const ctx = this.renderCtx(room);
    if (!this.atLatest) {
      this.listView.insert(added.filter((ev) => !isShown(ev)), ctx); // reactions and removals of what is shown
      if (mineArrived) this.scrollToBottom();
      else if (added.some(isShown)) this.showJump('New messages');
      return;
    }
    const wasAtBottom = this.isAtBottom();
    const nodes = this.listView.insert(added, ctx);
    if (wasAtBottom && this.listView.size > WINDOW_MAX + CHUNK) {
      this.listView.dropBefore(this.window.renderedSeq(this.listView.size - WINDOW_MAX));
      this.updateEarlierControls();
    }
    this.chat.sending.renderPending();
    if (mineArrived || (wasAtBottom && !this.holdDivider && this.holdCard === null)) this.scrollToBottom();
    else if (nodes.length) this.showJump('New messages');
    for (const ev of added) if (this.toReveal.has(`${room.key} ${ev.seq}`)) this.revealCrisis(room, ev.seq);
    this.checkSeen();
  }

  updateEarlierControls() {
    const room = this.chat.openRoom();
    const d = this.dom;
    if (!room || !room.loaded) {
      d.loadEarlier.hidden = true;
      return;
    }
    const hasOlder = room.hasMoreBefore || this.window.older(room).length > 0;
    d.loadEarlier.hidden = !hasOlder;
    if (!hasOlder) d.historyStatus.textContent = room.events.size ? 'This is the beginning of the conversation.' : 'No messages yet. You could say hello.';
  }

  onScroll() {
    const sc = this.dom.scroller;
    this.stickToBottom = this.isAtBottom();
    if (sc.scrollTop < EDGE_PX) this.loadEarlier(false);
    else if (!this.atLatest && sc.scrollHeight - sc.scrollTop - sc.clientHeight < EDGE_PX) this.showLater();
    if (this.stickToBottom) this.dom.jumpLatest.hidden = true;
    else if (!this.atLatest && this.dom.jumpLatest.hidden) this.showJump('Latest messages');
    this.checkSeen();
  }

  /** The button back to the latest messages, saying why it is there. */
  showJump(words) {
    const button = this.dom.jumpLatest;
    button.replaceChildren(`${words} `, el('span', { text: '↓', attrs: { 'aria-hidden': 'true' } }));
    button.hidden = false;
  }

  /** Render older events: held ones first, else the page before the oldest held. */
  async loadEarlier(fromButton) {
    const chat = this.chat;
    const room = chat.openRoom();
    if (!room || !room.loaded || room.loadingEarlier) return;
    const d = this.dom;
    const held = this.window.older(room);
    if (held.length) {
      this.prepend(room, held.slice(-CHUNK), fromButton);
      return;
    }
    if (!room.hasMoreBefore || room.firstSeq === null) return;
    room.loadingEarlier = true;
    d.historyStatus.textContent = 'Loading earlier messages…';
    try {
      for (let i = 0; i < MAX_EMPTY_PAGES && room.hasMoreBefore; i += 1) {
        const data = await api.messages(room.id, { before: room.firstSeq, limit: PAGE_SIZE });
        if (!chat.active || chat.rooms.get(room.key) !== room) return;
        const added = applyBeforePage(room, data && data.messages, data && data.has_more).filter(isShown);
        if (chat.openKey !== room.key) return;
        if (added.length || !room.hasMoreBefore) {
          d.historyStatus.textContent = '';
          this.prepend(room, added.slice(-CHUNK), fromButton); // the rest waits, held, for the next step
          return;
        }
      }
      d.historyStatus.textContent = '';
    } catch (err) {
      if (chat.openKey === room.key && err.status !== 401) d.historyStatus.textContent = 'We could not load earlier messages. Please try again.';
    } finally {
      room.loadingEarlier = false;
    }
  }

  prepend(room, events, fromButton) {
    const d = this.dom;
    const bounds = this.listView.bounds();
    this.keepInPlace(bounds && this.listView.node(bounds.lo), () => {
      this.listView.insert(events, this.renderCtx(room));
      if (this.listView.size > WINDOW_MAX) {
        this.listView.dropAfter(this.window.renderedSeq(WINDOW_MAX - 1));
        this.setAtLatest(false);
      }
      this.listView.setDivider(this.dividerSeq(room));
    });
    this.updateEarlierControls();
    if (fromButton && d.loadEarlier.hidden) d.scroller.focus();
  }

  /** Render the next newer held events (the reader scrolls back down). */
  showLater() {
    const room = this.chat.openRoom();
    if (!room || this.atLatest) return;
    const newer = this.window.newer(room);
    const bounds = this.listView.bounds();
    this.keepInPlace(bounds && this.listView.node(bounds.hi), () => {
      this.listView.insert(newer.slice(0, CHUNK), this.renderCtx(room));
      if (this.listView.size > WINDOW_MAX) this.listView.dropBefore(this.window.renderedSeq(this.listView.size - WINDOW_MAX));
    });
    if (newer.length <= CHUNK) {
      this.setAtLatest(true);
      this.chat.sending.renderPending();
    }
    this.updateEarlierControls();
  }

  /** Change what is rendered without moving what the reader sees (anchored on a node that stays). */
  keepInPlace(anchor, change) {
    const sc = this.dom.scroller;
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    change();
    if (anchor && anchor.isConnected) sc.scrollTop += anchor.getBoundingClientRect().top - before;
  }

  setAtLatest(on) {
    this.atLatest = on;
    if (!on) this.stickToBottom = false;
    this.dom.pendingList.hidden = !on; // my messages on their way belong after the latest
  }

  /** Bring a message into view and give it focus (a reply's original). False when it is not held. */
  jumpTo(seq) {
    const room = this.chat.openRoom();
    if (!room || !room.events.has(seq)) return false;
    if (!this.listView.has(seq)) {
      const shown = this.window.shown(room);
      const at = shown.findIndex((ev) => ev.seq === seq);
      if (at < 0) return false;
      const to = Math.min(shown.length, at + CHUNK);
      this.listView.clear();
      this.setAtLatest(to === shown.length);
      this.listView.insert(shown.slice(Math.max(0, at - CHUNK), to), this.renderCtx(room));
      this.listView.setDivider(this.dividerSeq(room));
      this.chat.sending.renderPending();
      this.updateEarlierControls();
    }
    const node = this.listView.node(seq);
    if (!node) return false;
    this.holdDivider = false;
    this.holdCard = null;
    node.scrollIntoView({ block: 'center' });
    node.focus({ preventScroll: true });
    node.classList.add('msg-highlight');
    setTimeout(() => node.classList.remove('msg-highlight'), 2500);
    this.stickToBottom = this.isAtBottom();
    if (this.stickToBottom) this.dom.jumpLatest.hidden = true;
    else this.showJump('Latest messages');
    return true;
  }

  /** The reader sees the room's latest event (and the page is visible). */
  latestSeen() {
    const room = this.chat.openRoom();
    const sc = this.dom.scroller;
    if (!room || !room.loaded || !this.atLatest || document.visibilityState !== 'visible' || !sc.getClientRects().length) return false;
    const bounds = this.listView.bounds();
    if (!bounds) return true;
    const last = this.listView.node(bounds.hi).getBoundingClientRect();
    const view = sc.getBoundingClientRect();
    return last.top < view.bottom - 4 && last.bottom > view.top;
  }

  checkSeen() {
    const room = this.chat.openRoom();
    if (room && this.latestSeen()) this.hooks.seen(room);
  }

  /** Is the open room on screen (on a phone the room list may be showing instead)? */
  onScreen() {
    return !!this.chat.openRoom() && this.dom.scroller.getClientRects().length > 0;
  }

  /** Should what grows at the bottom (my messages on their way) stay in view? */
  keepsBottom() {
    return !this.holdDivider && this.holdCard === null && (this.stickToBottom || this.isAtBottom());
  }

  isAtBottom() {
    const sc = this.dom.scroller;
    return this.atLatest && sc.scrollHeight - sc.scrollTop - sc.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    const room = this.chat.openRoom();
    if (!this.atLatest && room) {
      this.showLatest(room);
      return;
    }
    const sc = this.dom.scroller;
    sc.scrollTop = sc.scrollHeight;
    this.stickToBottom = true;
    this.holdDivider = false;
    this.holdCard = null;
    this.dom.jumpLatest.hidden = true;
  }

  scrollToDivider() {
    const sc = this.dom.scroller;
    const divider = this.listView.divider;
    sc.scrollTop += divider.getBoundingClientRect().top - sc.getBoundingClientRect().top - 8;
    this.stickToBottom = this.isAtBottom();
    if (this.stickToBottom) this.dom.jumpLatest.hidden = true;
    else this.showJump('Latest messages');
  }
}
