// The queue on screen: alerts first (queue.js orders it), each item with what
// it is about (the message as text), who raised it, and its one-click actions.
// Re-rendered whole on every change; the focused action keeps its focus.

import { formatFullTime, formatTime } from '../format.js';
import { el } from '../render.js';
import { isAlert } from './queue.js';
import { acknowledgedText, itemHeading, raisedByText, staffName } from './words.js';

/** The actions an open item offers, in order: [act, label]. */
export function itemActions(item) {
  if (item.status !== 'open') return [];
  const acts = [];
  if (item.kind === 'held') {
    acts.push(['approve', 'Approve'], ['reject', 'Reject…']);
  } else {
    if (isAlert(item)) acts.push(['ack', 'Acknowledge']);
    if (Number.isInteger(item.target_seq) && typeof item.excerpt === 'string') acts.push(['remove', 'Remove message…']);
    if (item.subject) acts.push(['mute', 'Mute…'], ['warn', 'Warn…']);
    acts.push(['resolve', 'Resolve…'], ['dismiss', 'Dismiss…']);
  }
  if (item.subject) acts.push(['person', 'Person']);
  return acts;
}

export class QueueView {
  /** @param {{list: HTMLElement, status: HTMLElement}} dom; onAction(act, item) */
  constructor(dom, onAction) {
    this.dom = dom;
    this.items = new Map();
    dom.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-act]');
      if (!button) return;
      const item = this.items.get(button.closest('li[data-item]').dataset.item);
      if (item) onAction(button.dataset.act, item, button);
    });
  }

  /** items: open items in screen order; note: a status line when there are none. */
  render(items, note = '') {
    const list = this.dom.list;
    const focused = document.activeElement;
    const keep = focused && list.contains(focused) ? { item: focused.closest('li[data-item]')?.dataset.item, act: focused.dataset.act } : null;
    this.items = new Map(items.map((item) => [String(item.id), item]));
    list.replaceChildren(...items.map((item) => this.itemNode(item)));
    this.dom.status.textContent = note || (items.length ? '' : 'Nothing waiting. The queue is clear.');
    if (!keep) return;
    const li = list.querySelector(`li[data-item="${CSS.escape(String(keep.item))}"]`);
    const target = li ? li.querySelector(`[data-act="${keep.act}"]`) || li.querySelector('button') : list.querySelector('button');
    (target || this.dom.status).focus?.();
  }

  itemNode(item) {
    const headingId = `queue-item-${item.id}`;
    const li = el('li', {
      className: `queue-item queue-${item.kind}${isAlert(item) ? ' queue-alert' : ''}${item.overdue ? ' queue-overdue' : ''}`,
      attrs: { 'data-item': item.id, 'aria-labelledby': headingId },
    });
    li.append(el('h3', { className: 'queue-heading', text: itemHeading(item), attrs: { id: headingId } }));
    if (item.subject) li.append(el('p', { className: 'queue-subject', text: `About ${staffName(item.subject)}` }));
    if (typeof item.excerpt === 'string') li.append(el('blockquote', { className: 'queue-excerpt', text: item.excerpt }));
    else if (item.target_seq) li.append(el('p', { className: 'queue-excerpt-gone muted', text: 'The message has been removed.' }));
    const raised = raisedByText(item);
    const count = Number(item.count) > 1 ? ` (${item.count} times)` : '';
    if (raised) li.append(el('p', { className: 'queue-raised', text: `Raised by ${raised}${count}` }));
    else if (count) li.append(el('p', { className: 'queue-raised', text: `Raised${count}` }));
    const meta = [formatTime(item.created_at) ? `At ${formatTime(item.created_at)}` : '', acknowledgedText(item)].filter(Boolean).join(' · ');
    if (meta) li.append(el('p', { className: 'queue-meta muted', text: meta, attrs: { title: formatFullTime(item.created_at) } }));
    const acts = itemActions(item);
    if (acts.length) {
      li.append(
        el(
          'div',
          { className: 'queue-actions', attrs: { role: 'group', 'aria-labelledby': headingId } },
          acts.map(([act, label]) =>
            el('button', { className: `btn btn-small ${act === 'ack' ? 'btn-help' : 'btn-quiet'}`, text: label, attrs: { type: 'button', 'data-act': act } }),
          ),
        ),
      );
    }
    return li;
  }
}
