// The audit trail for admins (GET /api/audit): a filter form and a page of
// entries, newest first, with "Show older entries" for the next page.

import { formatFullTime } from '../format.js';
import { el } from '../render.js';
import { modApi } from './api.js';
import { refusalText } from './action_dialog.js';
import { auditQuery } from './audit_query.js';
import { actionChoices, auditLine, shownName } from './words.js';

const PAGE = 50;

export class AuditView {
  /** @param {Record<string, HTMLElement>} dom  form, program, action, status, list, more */
  constructor(dom, roomName) {
    this.dom = dom;
    dom.action.append(...actionChoices().map(([value, text]) => el('option', { text, attrs: { value } })));
    this.roomName = (id) => this.roomNames.get(String(id)) || roomName(id);
    this.roomNames = new Map();
    this.before = null;
    this.fields = {};
    this.loaded = false;
    this.searches = 0;
    dom.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search();
    });
    dom.more.addEventListener('click', () => this.page(false));
    // "Actions by Kim" / "Actions on Pat" under an entry narrow the filter to that person.
    dom.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-field]');
      if (!button) return;
      dom.form.elements.namedItem(button.dataset.field).value = button.dataset.user;
      this.search();
      dom.status.focus();
    });
  }

  /** Fill the program choice (admins see every program) and learn their rooms' names. */
  async programs() {
    let list = [];
    try {
      const data = await modApi.programs();
      list = (data && data.programs) || [];
      this.dom.program.replaceChildren(
        el('option', { text: 'Any program', attrs: { value: '' } }),
        ...list.map((p) => el('option', { text: p.name, attrs: { value: p.id } })),
      );
    } catch {
      return; // the filter still works without names
    }
    const detail = await Promise.all(list.map((p) => modApi.program(p.id).catch(() => null)));
    for (const program of detail) for (const room of (program && program.rooms) || []) this.roomNames.set(String(room.id), room.name);
  }

  /** First visit: the latest entries. */
  show() {
    if (!this.loaded) {
      this.loaded = true;
      this.programs().then(() => this.search());
    }
  }

  search() {
    this.fields = Object.fromEntries(new FormData(this.dom.form).entries());
    this.before = null;
    this.searches += 1; // an answer to an earlier search is dropped
    this.dom.list.replaceChildren();
    this.page(true);
  }

  async page(first) {
    const d = this.dom;
    const search = this.searches;
    d.more.hidden = true;
    d.status.textContent = 'Loading…';
    let data;
    try {
      data = await modApi.audit(auditQuery(this.fields, { before: this.before, limit: PAGE }));
    } catch (err) {
      if (search === this.searches) d.status.textContent = refusalText(err);
      return;
    }
    if (search !== this.searches) return;
    const entries = (data && data.entries) || [];
    d.list.append(...entries.map((e) => this.entryNode(e)));
    this.before = data && data.next_before !== undefined ? data.next_before : null;
    d.more.hidden = this.before === null;
    const n = d.list.children.length;
    d.status.textContent = first && !entries.length ? 'No entries match.' : `${n} ${n === 1 ? 'entry' : 'entries'} shown.`;
  }

  entryNode(e) {
    const narrow = (field, person, words) =>
      person && typeof person === 'object' && person.id !== undefined
        ? el('button', { className: 'btn btn-quiet btn-small', text: `${words} ${shownName(person)}`, attrs: { type: 'button', 'data-field': field, 'data-user': person.id } })
        : null;
    const tools = [narrow('actor', e.actor, 'Actions by'), narrow('target_user', e.target_user, 'Actions on')].filter(Boolean);
    return el('li', { className: 'audit-entry' }, [
      el('time', { className: 'audit-time', text: formatFullTime(e.at), attrs: { datetime: e.at } }),
      el('p', { className: 'audit-text', text: auditLine({ ...e, room_name: e.room_name || (e.room ? this.roomName(e.room) : '') }) }),
      tools.length ? el('div', { className: 'audit-tools' }, tools) : null,
    ]);
  }
}
