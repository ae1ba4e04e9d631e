// The rooms I moderate, live: each is joined on the console's socket with
// `since` (the last seq held), so its latest messages, who is online and its
// settings stay current; a room's messages are held by room.js and gaps are
// filled by the chat's CatchUp. The list shows what is new in each; the chosen
// room shows its recent messages with Remove / Mute / Person on each.

import { api } from '../api.js';
import { CatchUp } from '../catch_up.js';
import { formatFullTime, formatTime } from '../format.js';
import { el } from '../render.js';
import { applyLatestPage, applyLive, createRoom, isHistoryEvent, roomKey } from '../room.js';
import { tombstoneText, writerName } from '../tombstone.js';
import { latestMessageSeq, newSince, onlineText, peerName, recentMessages } from './activity.js';
import { roomStateText } from './words.js';

const FIRST_PAGE = 50;

export class Rooms {
  /**
   * @param {Record<string, HTMLElement>} dom  list, status, detail, title, state, online, lock, slow, hold, error, messages
   * @param {{conn: object, actions: import('./actions.js').Actions, known: Map<string, object>,
   *          openPerson: (target: object) => void, changed: () => void}} hooks
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.active = false;
    /** @type {Map<string, object>} room key -> room (room.js) + program, state, online, seenSeq, detail */
    this.rooms = new Map();
    this.selected = null;
    this.visible = false;
    this.joinSeq = 0;
    this.joinRefs = new Map(); // ref -> room key
    this.catchUp = new CatchUp(this, (room) => this.changed(room));
    this.bind();
  }

  bind() {
    const d = this.dom;
    d.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-room]');
      if (button) this.select(button.dataset.room, { focus: true });
    });
    d.messages.addEventListener('click', (ev) => this.onMessageAction(ev));
    d.lock.addEventListener('click', () => this.withRoom((room) => this.hooks.actions.lock(room, !!(room.state && room.state.locked))));
    d.slow.addEventListener('click', () => this.withRoom((room) => this.hooks.actions.slow(room, room.state ? room.state.slow_seconds : 0)));
    d.hold.addEventListener('click', () => this.withRoom((room) => this.hooks.actions.hold(room, room.detail ? room.detail.hold_mode : 'off')));
  }

  withRoom(fn) {
    const room = this.rooms.get(this.selected);
    if (room) fn(room);
  }

  start() {
    this.active = true;
  }

  stop() {
    this.active = false;
    this.catchUp.stop();
    this.rooms.clear();
    this.selected = null;
    this.joinRefs.clear();
    this.dom.list.replaceChildren();
    this.dom.detail.hidden = true;
  }

  /** The rooms listing (GET /api/rooms): keep the ones I moderate. */
  async load() {
    let data;
    try {
      data = await api.rooms();
    } catch {
      this.dom.status.textContent = 'We could not load your rooms. They will load when the connection is back.';
      return;
    }
    if (!this.active) return;
    const wanted = new Set();
    for (const meta of (data && data.rooms) || []) {
      if (!meta || meta.role !== 'moderator') continue;
      const key = roomKey(meta.id);
      wanted.add(key);
      if (this.rooms.has(key)) continue;
      const room = Object.assign(createRoom(meta), { program: meta.program ?? null, state: null, online: [], seenSeq: 0, detail: null });
      this.rooms.set(key, room);
      this.loadRoom(room);
    }
    for (const key of [...this.rooms.keys()]) if (!wanted.has(key)) this.removeRoom(key);
    this.dom.status.textContent = this.rooms.size ? '' : 'You do not moderate any room.';
    this.renderList();
    this.hooks.changed();
  }

  get size() {
    return this.rooms.size;
  }

  /** Program ids of my rooms (for the real names of their people). */
  programs() {
    return [...new Set([...this.rooms.values()].map((r) => r.program).filter((p) => p !== null && p !== undefined))];
  }

  async loadRoom(room) {
    try {
      const data = await api.messages(room.id, { limit: FIRST_PAGE });
      if (!this.active || this.rooms.get(room.key) !== room) return;
      applyLatestPage(room, data && data.messages, data && data.has_more);
      room.seenSeq = latestMessageSeq(room);
      this.join(room);
      this.changed(room);
    } catch (err) {
      if (err.status === 403) this.removeRoom(room.key);
    }
  }

  /** A (new) connection is ready: join every loaded room from where we are. */
  joinAll() {
    this.joinRefs.clear();
    for (const room of this.rooms.values()) this.join(room);
  }

  join(room) {
    const conn = this.hooks.conn;
    if (!room.loaded || !conn.ready) return;
    const ref = `console-join:${room.key}:${++this.joinSeq}`;
    this.joinRefs.set(ref, room.key);
    conn.send({ type: 'join', room: room.id, since: room.lastSeq, ref });
  }

  removeRoom(key) {
    this.rooms.delete(key);
    if (this.selected === key) {
      this.selected = null;
      this.dom.detail.hidden = true;
    }
    this.renderList();
    this.hooks.changed();
  }

  /** Frames about rooms; returns true when it was one. */
  onFrame(f) {
    const room = f.room !== undefined && f.room !== null ? this.rooms.get(roomKey(f.room)) : null;
    switch (f.type) {
      case 'joined':
        this.joinRefs.delete(f.ref);
        if (room && Number.isInteger(f.last_seq) && f.last_seq > room.serverLastSeq) room.serverLastSeq = f.last_seq;
        return true;
      case 'room_state':
        if (room) {
          room.state = f;
          this.changed(room);
        }
        return true;
      case 'presence':
        if (room) {
          room.online = Array.isArray(f.online) ? f.online : [];
          this.changed(room);
        }
        return true;
      case 'sync':
        this.catchUp.onSync(f);
        return true;
      case 'typing':
      case 'observing':
        return true;
      case 'left':
        if (room && f.reason === 'removed') this.removeRoom(room.key);
        return true;
      case 'error':
        if (!this.joinRefs.has(f.ref)) return false;
        if (f.code === 'not_member' || f.code === 'forbidden') this.removeRoom(this.joinRefs.get(f.ref));
        this.joinRefs.delete(f.ref);
        return true;
      default:
        if (!isHistoryEvent(f) || !room) return false;
        if (!room.loaded) return true; // its first page (loading now) has it
        {
          const { added, gap } = applyLive(room, f);
          if (gap) this.catchUp.schedule(room, 0);
          if (added) this.changed(room);
        }
        return true;
    }
  }

  /** Everyone went offline as far as we know (the socket dropped). */
  down() {
    for (const room of this.rooms.values()) room.online = [];
    this.renderList();
    if (this.selected) this.renderDetail();
  }

  changed(room) {
    if (room && room.key === this.selected && this.visible) room.seenSeq = latestMessageSeq(room);
    this.renderList();
    if (room && room.key === this.selected) this.renderDetail();
    this.hooks.changed();
  }

  /** How many rooms have messages I have not looked at. */
  busyCount() {
    let n = 0;
    for (const room of this.rooms.values()) if (newSince(room, room.seenSeq) > 0) n += 1;
    return n;
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible && !this.selected && this.rooms.size) this.select([...this.rooms.keys()][0], { focus: false });
    else if (visible) this.changed(this.rooms.get(this.selected));
  }

  async select(key, { focus }) {
    const room = this.rooms.get(key);
    if (!room) return;
    this.selected = key;
    room.seenSeq = latestMessageSeq(room);
    this.dom.error.textContent = '';
    this.dom.detail.hidden = false;
    this.renderList();
    this.renderDetail();
    this.hooks.changed();
    if (focus) this.dom.title.focus();
    try {
      const detail = await api.room(room.id);
      room.detail = detail && detail.room ? detail.room : null;
      if (!room.state && detail && detail.state) room.state = detail.state;
      if (this.selected === key) this.renderDetail();
    } catch {
      /* the state frames still come */
    }
  }

  renderList() {
    const items = [...this.rooms.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const focused = document.activeElement;
    const focusedRoom = focused && this.dom.list.contains(focused) ? focused.dataset.room : null;
    this.dom.list.replaceChildren(
      ...items.map((room) => {
        const fresh = newSince(room, room.seenSeq);
        const online = new Set(room.online.map((p) => String(p && p.id))).size;
        const state = [
          room.kind === 'staff' ? 'staff only' : '',
          room.state && room.state.locked ? 'locked' : '',
          room.state && room.state.slow_seconds > 0 ? 'slow mode' : '',
        ]
          .filter(Boolean)
          .join(', ');
        const button = el('button', { className: 'watch-button', attrs: { type: 'button', 'data-room': room.key, 'aria-current': room.key === this.selected ? 'true' : null } }, [
          el('span', { className: 'watch-name', text: room.name || 'Untitled room' }),
          el('span', { className: 'watch-meta', text: [fresh ? `${fresh} new` : '', `${online} online`, state].filter(Boolean).join(' · ') }),
        ]);
        return el('li', {}, [button]);
      }),
    );
    if (focusedRoom) this.dom.list.querySelector(`button[data-room="${CSS.escape(focusedRoom)}"]`)?.focus();
  }

  renderDetail() {
    const room = this.rooms.get(this.selected);
    const d = this.dom;
    if (!room) return;
    d.title.textContent = room.name || 'Untitled room';
    d.state.textContent = roomStateText(room.state);
    d.online.textContent = onlineText(room.online, this.hooks.known);
    d.lock.textContent = room.state && room.state.locked ? 'Unlock room' : 'Lock room';
    const focused = document.activeElement;
    const keep = focused && d.messages.contains(focused) ? { seq: focused.closest('li')?.dataset.seq, act: focused.dataset.act } : null;
    const shown = recentMessages(room);
    d.messages.replaceChildren(...shown.map(({ ev, removed }) => this.messageNode(room, ev, removed)));
    if (!shown.length) d.messages.append(el('li', { className: 'muted', text: 'No messages yet.' }));
    if (keep) {
      const li = d.messages.querySelector(`li[data-seq="${CSS.escape(String(keep.seq))}"]`);
      (li && (li.querySelector(`[data-act="${keep.act}"]`) || li.querySelector('button')))?.focus();
    }
  }

  /** removed: null, or why the message was erased (tombstone.js). */
  messageNode(room, ev, removed) {
    const who = writerName(peerName(ev.author, this.hooks.known), removed);
    const li = el('li', { className: `watch-msg${removed ? ' watch-msg-removed' : ''}`, attrs: { 'data-seq': ev.seq } });
    li.append(
      el('p', { className: 'watch-msg-meta' }, [
        el('span', { className: 'watch-msg-author', text: who }),
        ' ',
        el('time', { text: formatTime(ev.ts), attrs: { datetime: ev.ts, title: formatFullTime(ev.ts) } }),
      ]),
      removed
        ? el('p', { className: 'watch-msg-body msg-tombstone', text: tombstoneText(removed) })
        : el('p', { className: 'watch-msg-body', text: typeof ev.body === 'string' ? ev.body : '' }),
    );
    if (removed) return li;
    const about = ` (message from ${ev.author && ev.author.display_name ? ev.author.display_name : 'someone'})`;
    const tool = (act, label) =>
      el('button', { className: 'btn btn-quiet btn-small', attrs: { type: 'button', 'data-act': act } }, [label, el('span', { className: 'visually-hidden', text: about })]);
    li.append(el('div', { className: 'watch-msg-tools' }, [tool('remove', 'Remove'), tool('mute', 'Mute…'), tool('person', 'Person')]));
    return li;
  }

  onMessageAction(ev) {
    const button = ev.target.closest('button[data-act]');
    const room = this.rooms.get(this.selected);
    if (!button || !room) return;
    const seq = Number(button.closest('li').dataset.seq);
    const msg = room.events.get(seq);
    if (!msg || !msg.author) return;
    const user = { ...(this.hooks.known.get(String(msg.author.id)) || {}), ...msg.author };
    const act = button.dataset.act;
    if (act === 'remove') this.hooks.actions.removeMessage({ room: room.id, roomName: room.name, seq, author: user, body: msg.body });
    else if (act === 'mute') this.hooks.actions.mute({ room: room.id, roomName: room.name, user });
    else if (act === 'person') this.hooks.openPerson({ program: room.program, user, room: room.id, roomName: room.name });
  }
}
