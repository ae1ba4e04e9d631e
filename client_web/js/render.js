// DOM building. Every piece of user-provided text (message bodies, display
// names, room names, resource names) goes in through textContent or
// createTextNode, never innerHTML.

import { displayName, formatFullTime, formatTime, friendlyError } from './format.js';

/** document.createElement with classes, text and attributes. */
export function el(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  for (const child of children) if (child) node.append(child);
  return node;
}

function timeNode(ts) {
  const label = formatTime(ts);
  if (!label) return null;
  return el('time', { className: 'msg-time', text: label, attrs: { datetime: ts, title: formatFullTime(ts) } });
}

/** A stored message (or its tombstone). */
export function messageNode(ev, { meId, removed }) {
  const mine = ev.author && meId !== null && meId !== undefined && String(ev.author.id) === String(meId);
  const li = el('li', { className: `msg${mine ? ' msg-mine' : ''}${removed ? ' msg-removed' : ''}`, attrs: { 'data-seq': ev.seq } });
  if (ev.author && ev.author.id !== undefined && ev.author.id !== null) li.dataset.author = String(ev.author.id);
  const t = Date.parse(ev.ts);
  if (!Number.isNaN(t)) li.dataset.time = String(t);
  const meta = el('div', { className: 'msg-meta' }, [
    el('span', { className: 'msg-author', text: displayName(ev.author) }),
    mine ? el('span', { className: 'msg-you', text: '(you)' }) : null,
    timeNode(ev.ts),
  ]);
  li.append(meta, bodyNode(ev, removed));
  return li;
}

function bodyNode(ev, removed) {
  if (removed) return el('p', { className: 'msg-body msg-tombstone', text: 'This message was removed by a moderator.' });
  return el('p', { className: 'msg-body', text: typeof ev.body === 'string' ? ev.body : '' });
}

/** A small system line (membership changes). */
export function systemNode(ev) {
  let text;
  if (ev.type === 'member_added') {
    const who = displayName(ev.user);
    text = ev.role === 'moderator' ? `${who} joined as a moderator` : `${who} joined the room`;
  } else if (ev.type === 'member_changed') {
    const who = displayName(ev.user);
    const as = { reader: 'can now read here but not post', moderator: 'is now a moderator', member: 'can post here again' };
    text = `${who} ${as[ev.role] || 'has a new role'}`;
  } else if (ev.type === 'member_removed') {
    text = `${displayName(ev.user)} left the room`;
  } else {
    return null;
  }
  const li = el('li', { className: 'msg-system', attrs: { 'data-seq': ev.seq } }, [el('span', { text })]);
  const t = timeNode(ev.ts);
  if (t) li.append(' · ', t);
  return li;
}

const GROUP_WITHIN_MS = 5 * 60 * 1000;

/**
 * Consecutive messages by the same person within a few minutes form a group:
 * the name and time are shown once (and stay available to screen readers).
 */
function groupWithPrevious(node) {
  const prev = node.previousElementSibling;
  const same =
    !!prev &&
    !!node.dataset.author &&
    prev.dataset.author === node.dataset.author &&
    Math.abs(Number(node.dataset.time) - Number(prev.dataset.time)) < GROUP_WITHIN_MS;
  node.classList.toggle('msg-continued', same);
}

/** The list of a room's stored events, kept sorted by seq, one node per seq. */
export class MessageListView {
  constructor(listEl) {
    this.list = listEl;
    /** @type {Map<number, HTMLElement>} */
    this.nodes = new Map();
  }

  clear() {
    this.list.replaceChildren();
    this.nodes.clear();
  }

  /**
   * Insert events (any order). `ctx` = {meId, isRemoved(ev)}.
   * Returns the nodes that were inserted.
   */
  insert(events, ctx) {
    const inserted = [];
    for (const ev of events) {
      if (ev.type === 'redacted') {
        this.refresh(ev.target, ctx);
        continue;
      }
      if (this.nodes.has(ev.seq)) continue;
      const node = ev.type === 'message' ? messageNode(ev, { meId: ctx.meId, removed: ctx.isRemoved(ev) }) : systemNode(ev);
      if (!node) continue;
      this.list.insertBefore(node, this._nodeAfter(ev.seq));
      this.nodes.set(ev.seq, node);
      groupWithPrevious(node);
      if (node.nextElementSibling) groupWithPrevious(node.nextElementSibling);
      inserted.push(node);
    }
    return inserted;
  }

  /** Re-render one message in place (e.g. it became a tombstone). */
  refresh(seq, ctx) {
    const old = this.nodes.get(seq);
    const ev = ctx.getEvent(seq);
    if (!old || !ev || ev.type !== 'message') return;
    const node = messageNode(ev, { meId: ctx.meId, removed: ctx.isRemoved(ev) });
    old.replaceWith(node);
    this.nodes.set(seq, node);
    groupWithPrevious(node);
  }

  // The first rendered node with a greater seq (insertion point); usually none.
  _nodeAfter(seq) {
    let best = null;
    let bestSeq = Infinity;
    const last = this.list.lastElementChild;
    if (!last || Number(last.dataset.seq) < seq) return null;
    for (const [s, node] of this.nodes) {
      if (s > seq && s < bestSeq) {
        best = node;
        bestSeq = s;
      }
    }
    return best;
  }
}

const NO_RETRY = new Set(['read_only']); // sending it again cannot help

/** Messages being sent: "Sending…", held for review, or failed with Retry / Discard. */
export class PendingListView {
  constructor(listEl, { onRetry, onDiscard }) {
    this.list = listEl;
    this.onRetry = onRetry;
    this.onDiscard = onDiscard;
    /** @type {Map<string, {node: HTMLElement, key: string}>} */
    this.items = new Map();
  }

  clear() {
    this.list.replaceChildren();
    this.items.clear();
  }

  /** Show exactly `entries` (outbox entries of the open room, oldest first). */
  render(entries, { meName }) {
    const keep = new Set(entries.map((e) => e.clientId));
    for (const [id, item] of this.items) {
      if (!keep.has(id)) {
        item.node.remove();
        this.items.delete(id);
      }
    }
    let cursor = this.list.firstElementChild;
    for (const entry of entries) {
      const stateKey = `${entry.status}|${entry.error ? entry.error.code : ''}`;
      let item = this.items.get(entry.clientId);
      if (!item || item.key !== stateKey) {
        const node = this._node(entry, meName);
        if (item) {
          if (cursor === item.node) cursor = node;
          item.node.replaceWith(node);
        }
        item = { node, key: stateKey };
        this.items.set(entry.clientId, item);
      }
      // Move nodes only when out of order, so a focused button keeps its focus.
      if (item.node === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(item.node, cursor);
    }
  }

  _node(entry, meName) {
    const failed = entry.status === 'failed';
    const held = entry.status === 'held';
    const li = el('li', {
      className: `msg msg-mine msg-pending${failed ? ' msg-failed' : ''}${held ? ' msg-held' : ''}`,
      attrs: { 'data-client-id': entry.clientId },
    });
    const statusText = failed ? 'Not sent' : held ? 'Waiting for a moderator’s review' : entry.status === 'acked' ? 'Sent' : 'Sending…';
    li.append(
      el('div', { className: 'msg-meta' }, [
        el('span', { className: 'msg-author', text: meName || 'You' }),
        el('span', { className: 'msg-you', text: '(you)' }),
        el('span', { className: 'msg-status', text: statusText }),
      ]),
      el('p', { className: 'msg-body', text: entry.body }),
    );
    if (held) li.append(el('p', { className: 'msg-note', text: 'Only you can see this for now. A moderator will review it before others can see it.' }));
    if (failed) {
      const error = entry.error || {};
      const discard = el('button', { className: 'btn btn-small btn-quiet', text: 'Discard', attrs: { type: 'button' } });
      discard.addEventListener('click', () => this.onDiscard(entry.clientId));
      let retry = null;
      if (!NO_RETRY.has(error.code)) {
        retry = el('button', { className: 'btn btn-small btn-primary', text: 'Retry', attrs: { type: 'button' } });
        retry.addEventListener('click', () => this.onRetry(entry.clientId));
      }
      li.append(
        el('div', { className: 'msg-failure' }, [
          el('p', { className: 'msg-error', text: friendlyError(error.code, error.retryAfter, error.until) }),
          el('div', { className: 'msg-actions' }, [retry, discard]),
        ]),
      );
    }
    return li;
  }
}

/**
 * The room list: one titled list per group (see room_groups.js), each room a
 * button (aria-current on the open one), read-only rooms marked as such.
 */
export function renderRoomList(container, groups, openKey, onSelect) {
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset.room : undefined;
  const sections = groups.map((group) => {
    const titleId = `room-group-${group.id}`;
    const items = group.rooms.map((room) => {
      const btn = el('button', { className: 'room-button', attrs: { type: 'button', 'data-room': room.key } }, [
        el('span', { className: 'room-name', text: room.name || 'Untitled room' }),
        room.role === 'reader' ? el('span', { className: 'room-note', text: 'Read only' }) : null,
      ]);
      if (room.key === openKey) btn.setAttribute('aria-current', 'true');
      btn.addEventListener('click', () => onSelect(room.key));
      return el('li', {}, [btn]);
    });
    return el('div', { className: 'room-group' }, [
      el('h3', { className: 'room-group-title', text: group.title, attrs: { id: titleId } }),
      el('ul', { className: 'room-list', attrs: { 'aria-labelledby': titleId } }, items),
    ]);
  });
  container.replaceChildren(...sections);
  if (focused !== undefined) {
    const again = [...container.querySelectorAll('button[data-room]')].find((b) => b.dataset.room === focused);
    if (again) again.focus(); // a refreshed list keeps the keyboard where it was
  }
}

/** Crisis resources for the help dialog. */
export function resourceNode(res) {
  const li = el('li', { className: 'resource' });
  li.append(el('p', { className: 'resource-name', text: typeof res.name === 'string' ? res.name : '' }));
  const contact = typeof res.contact === 'string' ? res.contact.trim() : '';
  if (contact) {
    const href = contactHref(contact);
    li.append(
      href
        ? el('a', { className: 'resource-contact', text: contact, attrs: { href, ...(href.startsWith('http') ? { target: '_blank', rel: 'noopener noreferrer' } : {}) } })
        : el('p', { className: 'resource-contact', text: contact }),
    );
  }
  if (typeof res.description === 'string' && res.description.trim()) {
    li.append(el('p', { className: 'resource-description', text: res.description }));
  }
  return li;
}

/**
 * A safe link for a contact: an http(s) URL, or a phone number as tel:
 * ("1-800-662-4357", "Call 911", "Call or text 988"). Anything else stays text.
 */
export function contactHref(contact) {
  if (/^https?:\/\/\S+$/i.test(contact)) {
    try {
      const u = new URL(contact);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
    } catch {
      return null;
    }
    return null;
  }
  const m = /^(?:(?:call|phone|dial)(?: or text)?:?\s+)?(\+?[0-9][0-9 ().-]{1,20})$/i.exec(contact);
  if (!m) return null;
  const digits = m[1].replace(/[^0-9+]/g, '');
  return digits.replace(/\+/g, '').length >= 3 ? `tel:${digits}` : null;
}
