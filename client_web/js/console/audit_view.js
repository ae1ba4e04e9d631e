// The audit trail for admins (GET /api/audit): a filter form and a page of
// entries, newest first, with "Show older entries" for the next page.

import { formatFullTime } from '../format.js';
import { el } from '../render.js';
import { modApi } from './api.js';
import { refusalText } from './action_dialog.js';
import { auditQuery } from './audit_query.js';
import { actionChoices, auditLine } from './words.js';

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
    dom.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search();
    });
    dom.more.addEventListener('click', () => this.page(false));
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
    this.dom.list.replaceChildren();
    this.page(true);
  }

  async page(first) {
    const d = this.dom;
    d.more.hidden = true;
    d.status.textContent = 'Loading…';
    let data;
    try {
      data = await modApi.audit(auditQuery(this.fields, { before: this.before, limit: PAGE }));
    } catch (err) {
      d.status.textContent = refusalText(err);
      return;
    }
    const entries = (data && data.entries) || [];
    d.list.append(
      ...entries.map((e) =>
        el('li', { className: 'audit-entry' }, [
          el('time', { className: 'audit-time', text: formatFullTime(e.at), attrs: { datetime: e.at } }),
          el('p', { className: 'audit-text', text: auditLine({ ...e, room_name: e.room_name || (e.room ? this.roomName(e.room) : '') }) }),
        ]),
      ),
    );
    this.before = data && data.next_before !== undefined ? data.next_before : null;
    d.more.hidden = this.before === null;
    d.status.textContent = first && !entries.length ? 'No entries match.' : `${d.list.children.length} entries shown.`;
  }
}
