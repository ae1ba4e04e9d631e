// My messages on their way: "Sending…", waiting for a moderator's review
// (with the support card when it sounded like a crisis), not approved with
// Edit and Discard, or not sent with Retry and Discard. Nodes are kept while
// their state does not change, so a focused button keeps its focus.

import { friendlyError } from './format.js';
import { rejectedText } from './notices.js';
import { crisisCard, el, quoteNode } from './render.js';

const NO_RETRY = new Set(['read_only']); // sending it again cannot help

/** Messages being sent: "Sending…", held for review, or failed with Retry / Discard. */
export class PendingListView {
  /** hooks: onRetry, onDiscard, onEdit (words back into the box), onDismissCrisis (by client id) */
  constructor(listEl, { onRetry, onDiscard, onEdit, onDismissCrisis }) {
    this.list = listEl;
    this.onRetry = onRetry;
    this.onDiscard = onDiscard;
    this.onEdit = onEdit;
    this.onDismissCrisis = onDismissCrisis;
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
      const stateKey = `${entry.status}|${entry.error ? entry.error.code : ''}|${entry.crisis ? 'crisis' : ''}`;
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
    const rejected = entry.status === 'rejected';
    const li = el('li', {
      className: `msg msg-mine msg-pending${failed || rejected ? ' msg-failed' : ''}${held ? ' msg-held' : ''}`,
      attrs: { 'data-client-id': entry.clientId },
    });
    const statusText = failed
      ? 'Not sent'
      : held
        ? 'Waiting for a moderator’s review'
        : rejected
          ? 'Not approved'
          : entry.status === 'acked'
            ? 'Sent'
            : 'Sending…';
    li.append(
      el('div', { className: 'msg-meta' }, [
        el('span', { className: 'msg-author', text: meName || 'You' }),
        el('span', { className: 'msg-you', text: '(you)' }),
        el('span', { className: 'msg-status', text: statusText }),
      ]),
      entry.replyTo ? quoteNode(entry.replyTo) : null,
      el('p', { className: 'msg-body', text: entry.body }),
    );
    if (held) li.append(el('p', { className: 'msg-note', text: 'Only you can see this for now. A moderator will review it before others can see it.' }));
    if (entry.crisis) {
      const card = crisisCard(entry.crisis, { held: held || rejected });
      card.querySelector('[data-action="dismiss-crisis"]').addEventListener('click', () => this.onDismissCrisis(entry.clientId));
      li.append(card);
    }
    if (rejected) {
      const edit = el('button', { className: 'btn btn-small btn-primary', text: 'Edit', attrs: { type: 'button' } });
      edit.addEventListener('click', () => this.onEdit(entry.clientId));
      const discard = el('button', { className: 'btn btn-small btn-quiet', text: 'Discard', attrs: { type: 'button' } });
      discard.addEventListener('click', () => this.onDiscard(entry.clientId));
      li.append(
        el('div', { className: 'msg-failure' }, [
          el('p', { className: 'msg-error', text: rejectedText(entry.error && entry.error.reason) }),
          el('div', { className: 'msg-actions' }, [edit, discard]),
        ]),
      );
    }
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
