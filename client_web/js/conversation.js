// The open room's messages: its first page, earlier pages as the reader
// scrolls up, new events as they arrive, and where the view stays (at the
// bottom while the reader is there; put nowhere else without asking: a
// "New messages" button appears instead).

import { api } from './api.js';
import { friendlyError } from './format.js';
import { MessageListView } from './render.js';
import { applyBeforePage, applyLatestPage, heldEvents, isRemoved } from './room.js';

const PAGE_SIZE = 50;
const NEAR_BOTTOM_PX = 80;
const LOAD_EARLIER_WITHIN_PX = 40;

export class Conversation {
  /**
   * @param {object} dom  elements (see main.js)
   * @param {object} chat  the Chat (active, me, rooms, openKey, openRoom(), joinOpenRoom(), removeRoom(), sending)
   */
  constructor(dom, chat) {
    this.dom = dom;
    this.chat = chat;
    this.listView = new MessageListView(dom.messageList);
    this.loading = new Map(); // room key -> promise of the first page
    // When the visible area changes size (the on-screen keyboard, a longer
    // composer, the presence line), a reader at the bottom stays at the bottom.
    this.stickToBottom = true;
    const d = dom;
    d.loadEarlier.addEventListener('click', () => this.loadEarlier(true));
    d.scroller.addEventListener('scroll', () => {
      this.stickToBottom = this.isNearBottom();
      if (d.scroller.scrollTop < LOAD_EARLIER_WITHIN_PX) this.loadEarlier(false);
      if (this.stickToBottom) d.jumpLatest.hidden = true;
    }, { passive: true });
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
  }

  /** Nothing is shown (no room open, or another one opens). */
  clear() {
    this.listView.clear();
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
    if (room.loaded) {
      this.renderFull();
      this.scrollToBottom();
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
        data = await api.messages(room.id, { limit: PAGE_SIZE });
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
        this.renderFull();
        this.scrollToBottom();
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

  renderFull() {
    const room = this.chat.openRoom();
    if (!room) return;
    this.listView.clear();
    this.listView.insert(heldEvents(room), this.renderCtx(room));
    this.chat.sending.renderPending();
    this.updateEarlierControls();
  }

  renderCtx(room) {
    const me = this.chat.me;
    return {
      meId: me ? me.id : null,
      isRemoved: (ev) => isRemoved(room, ev),
      getEvent: (seq) => room.events.get(seq),
    };
  }

  /**
   * New events of the open room (live or caught up): show them, staying at the
   * bottom when the reader was there or the new message is mine.
   */
  showAdded(room, added, mineArrived) {
    const wasNearBottom = this.isNearBottom();
    const nodes = this.listView.insert(added, this.renderCtx(room));
    this.chat.sending.renderPending();
    if (wasNearBottom || mineArrived) this.scrollToBottom();
    else if (nodes.length) this.dom.jumpLatest.hidden = false;
  }

  updateEarlierControls() {
    const room = this.chat.openRoom();
    const d = this.dom;
    if (!room || !room.loaded) {
      d.loadEarlier.hidden = true;
      return;
    }
    d.loadEarlier.hidden = !room.hasMoreBefore;
    if (!room.hasMoreBefore) d.historyStatus.textContent = room.events.size ? 'This is the beginning of the conversation.' : 'No messages yet. You could say hello.';
  }

  async loadEarlier(fromButton) {
    const chat = this.chat;
    const room = chat.openRoom();
    if (!room || !room.loaded || !room.hasMoreBefore || room.loadingEarlier || room.firstSeq === null) return;
    const d = this.dom;
    room.loadingEarlier = true;
    d.historyStatus.textContent = 'Loading earlier messages…';
    try {
      const data = await api.messages(room.id, { before: room.firstSeq, limit: PAGE_SIZE });
      if (!chat.active || chat.rooms.get(room.key) !== room) return;
      const added = applyBeforePage(room, data && data.messages, data && data.has_more);
      if (chat.openKey === room.key) {
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
      if (chat.openKey === room.key && err.status !== 401) d.historyStatus.textContent = 'We could not load earlier messages. Please try again.';
    } finally {
      room.loadingEarlier = false;
    }
  }

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
}
