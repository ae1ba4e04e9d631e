// The rendered part of a room's history: one node per shown event, kept in seq
// order, with the landmarks between them (a separator where a day starts, the
// "new since you were here" line) and consecutive messages of one person
// grouped. What is rendered is a window the conversation chooses (see
// conversation.js): nodes can be dropped from either end to keep the page light.

import { el, messageNode, refreshReactions, systemNode } from './render.js';
import { dayLabel, dayStarts } from './timeline.js';

const GROUP_WITHIN_MS = 5 * 60 * 1000;

/** Does this event get a node of its own? (reactions and removals change other nodes) */
export function isShown(ev) {
  return ev.type === 'message' || ev.type === 'member_added' || ev.type === 'member_changed' || ev.type === 'member_removed';
}

export class MessageListView {
  /** @param {HTMLOListElement} listEl */
  constructor(listEl) {
    this.list = listEl;
    /** @type {Map<number, HTMLElement>} seq -> node, shown events only */
    this.nodes = new Map();
    /** @type {Map<number, HTMLElement>} seq of the day's first shown event -> separator */
    this.separators = new Map();
    this.divider = el('li', { className: 'unread-divider' }, [el('h3', { className: 'unread-divider-label', text: 'New since you were here' })]);
    this.dividerSeq = null;
  }

  clear() {
    this.list.replaceChildren();
    this.nodes.clear();
    this.separators.clear();
  }

  get size() {
    return this.nodes.size;
  }

  /** Lowest and highest seq rendered (null when empty). */
  bounds() {
    if (!this.nodes.size) return null;
    let lo = Infinity;
    let hi = -Infinity;
    for (const seq of this.nodes.keys()) {
      if (seq < lo) lo = seq;
      if (seq > hi) hi = seq;
    }
    return { lo, hi };
  }

  has(seq) {
    return this.nodes.has(seq);
  }

  node(seq) {
    return this.nodes.get(seq) || null;
  }

  /**
   * Insert events (any order): shown ones get a node; a reaction or a removal
   * refreshes the message it is about, when that is rendered.
   * `ctx` = {meId, isRemoved(ev), removalReason(ev), getEvent(seq), reactions(seq), crisis(seq), hidden(ev), mutedWriter(ev)}.
   * Returns the nodes inserted.
   */
  insert(events, ctx) {
    const inserted = [];
    for (const ev of events) {
      if (ev.type === 'redacted') {
        this.refresh(ev.target, ctx);
        this.refreshWhere((shown) => !!shown.reply_to && shown.reply_to.seq === ev.target, ctx); // their quotes of it
        continue;
      }
      if (ev.type === 'reaction') {
        const node = this.nodes.get(ev.target);
        if (node) refreshReactions(node, ctx.reactions(ev.target));
        continue;
      }
      if (!isShown(ev) || this.nodes.has(ev.seq)) continue;
      const node = ev.type === 'message' ? messageNode(ev, this.messageCtx(ev, ctx)) : systemNode(ev);
      if (!node) continue;
      this.list.insertBefore(node, this.nodeAfter(ev.seq));
      this.nodes.set(ev.seq, node);
      inserted.push(node);
    }
    if (inserted.length) this.decorate();
    return inserted;
  }

  messageCtx(ev, ctx) {
    const quoted = ev.reply_to && typeof ev.reply_to === 'object' ? ctx.getEvent(ev.reply_to.seq) : null;
    return {
      meId: ctx.meId,
      removed: ctx.isRemoved(ev),
      reactions: ctx.reactions(ev.seq),
      crisis: ctx.crisis(ev.seq),
      quoteRemoved: !!quoted && ctx.isRemoved(quoted),
      why: ctx.removalReason ? ctx.removalReason(ev) : null,
      quoteWhy: quoted && ctx.removalReason ? ctx.removalReason(quoted) : null,
      hidden: ctx.hidden(ev),
      mutedWriter: ctx.mutedWriter(ev),
    };
  }

  /** Re-render the rendered messages `test(ev)` picks (e.g. a person's, after I muted them). */
  refreshWhere(test, ctx) {
    let any = false;
    for (const seq of [...this.nodes.keys()]) {
      const ev = ctx.getEvent(seq);
      if (ev && ev.type === 'message' && test(ev)) {
        this.refresh(seq, ctx);
        any = true;
      }
    }
    if (any) this.decorate(); // folding or unfolding changes who is grouped with whom
  }

  /** Re-render one message in place (e.g. it became a tombstone). */
  refresh(seq, ctx) {
    const old = this.nodes.get(seq);
    const ev = ctx.getEvent(seq);
    if (!old || !ev || ev.type !== 'message') return;
    const node = messageNode(ev, this.messageCtx(ev, ctx));
    node.classList.toggle('msg-continued', old.classList.contains('msg-continued'));
    const hadFocus = old.contains(document.activeElement);
    old.replaceWith(node);
    this.nodes.set(seq, node);
    if (hadFocus) node.focus();
  }

  /** Drop rendered events with seq < `seq` (before) or > `seq` (after). Returns how many. */
  dropBefore(seq) {
    return this.dropWhere((s) => s < seq);
  }

  dropAfter(seq) {
    return this.dropWhere((s) => s > seq);
  }

  dropWhere(test) {
    let n = 0;
    for (const [s, node] of this.nodes) {
      if (!test(s)) continue;
      node.remove();
      this.nodes.delete(s);
      n += 1;
    }
    if (n) this.decorate();
    return n;
  }

  /** Where "new since you were here" goes (the seq it precedes), or null for nowhere. */
  setDivider(seq) {
    if (seq === this.dividerSeq) return;
    this.dividerSeq = seq;
    this.decorate();
  }

  /** Say the days again ("Today" becomes "Yesterday" after midnight). */
  relabelDays() {
    for (const sep of this.separators.values()) {
      const first = sep.nextElementSibling === this.divider ? this.divider.nextElementSibling : sep.nextElementSibling;
      if (first) sep.firstElementChild.textContent = dayLabel(Number(first.dataset.time));
    }
  }

  /** Put separators and the divider where they belong, and group consecutive messages. */
  decorate() {
    const order = [...this.nodes.keys()].sort((a, b) => a - b);
    const starts = dayStarts(order.map((seq) => ({ seq, ts: Number(this.nodes.get(seq).dataset.time) || null })));
    for (const [seq, sep] of this.separators) {
      if (starts.get(seq) !== sep.dataset.day) {
        sep.remove();
        this.separators.delete(seq);
      }
    }
    if (!this.nodes.has(this.dividerSeq)) this.divider.remove();
    for (const seq of order) {
      let anchor = this.nodes.get(seq);
      if (seq === this.dividerSeq) {
        if (this.divider.nextElementSibling !== anchor) this.list.insertBefore(this.divider, anchor);
        anchor = this.divider;
      }
      const day = starts.get(seq);
      if (day === undefined) continue;
      let sep = this.separators.get(seq);
      if (!sep) {
        sep = separatorNode(day, Number(this.nodes.get(seq).dataset.time));
        this.separators.set(seq, sep);
      }
      if (sep.nextElementSibling !== anchor) this.list.insertBefore(sep, anchor);
    }
    for (const seq of order) groupWithPrevious(this.nodes.get(seq));
  }

  // The first rendered node with a greater seq (insertion point); usually none.
  nodeAfter(seq) {
    const last = this.list.lastElementChild;
    if (!last || Number(last.dataset.seq) < seq) return null;
    let best = null;
    let bestSeq = Infinity;
    for (const [s, node] of this.nodes) {
      if (s > seq && s < bestSeq) {
        best = node;
        bestSeq = s;
      }
    }
    return best;
  }
}

function separatorNode(day, time) {
  return el('li', { className: 'day-separator', attrs: { 'data-day': day } }, [
    el('h3', { className: 'day-label', text: dayLabel(time) }),
  ]);
}

/**
 * Consecutive messages by the same person within a few minutes form a group:
 * the name and time are shown once (and stay available to screen readers).
 * A folded message (its writer muted by me) shows no name, so it starts no group.
 */
function groupWithPrevious(node) {
  const prev = node.previousElementSibling;
  const same =
    !!prev &&
    !!node.dataset.author &&
    !prev.classList.contains('msg-hidden') &&
    !node.classList.contains('msg-hidden') &&
    prev.dataset.author === node.dataset.author &&
    Math.abs(Number(node.dataset.time) - Number(prev.dataset.time)) < GROUP_WITHIN_MS;
  node.classList.toggle('msg-continued', same);
}
