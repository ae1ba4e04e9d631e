// A person's moderation history in a program, as moderators see it (GET
// /api/programs/{p}/people/{u}/moderation): who they are, their standing, the
// actions that can be taken on them, notes (with a form to add one), warnings
// and running mutes, queue items about them and the audit entries naming them.

import { formatFullTime, formatUntil } from '../format.js';
import { el } from '../render.js';
import { modApi } from './api.js';
import { refusalText } from './action_dialog.js';
import { actionText, auditLine, KIND_LABEL, staffName } from './words.js';

function when(ts) {
  const full = formatFullTime(ts);
  return full ? el('time', { text: full, attrs: { datetime: ts } }) : null;
}

function fill(list, nodes, empty) {
  list.replaceChildren(...(nodes.length ? nodes : [el('li', { className: 'muted', text: empty })]));
}

export class PersonView {
  /**
   * @param {Record<string, HTMLElement>} dom  title, status, body, standing, actions, notes, noteForm, noteBody, noteError, warnings, queue, audit
   * @param {{actions: import('./actions.js').Actions, roomName: (id: any) => string}} hooks
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.target = null; // {program, user, room?, roomName?}
    this.loadSeq = 0;
    this.followUp = ''; // what the last action asks the moderator to do next (a ban's withdrawn invite), kept in the status line
    dom.noteForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.saveNote();
    });
    for (const list of [dom.actions, dom.warnings]) {
      list.addEventListener('click', (ev) => {
        const button = ev.target.closest('button[data-act]');
        if (button) this.act(button.dataset.act, button.dataset);
      });
    }
  }

  /** target: {program, user: {id, display_name, ...}, room?, roomName?} */
  async open(target) {
    this.target = target;
    this.followUp = '';
    const d = this.dom;
    d.title.textContent = staffName(target.user);
    d.body.hidden = true;
    d.noteError.textContent = '';
    if (target.program === null || target.program === undefined) {
      d.status.textContent = 'This room is not part of a program, so there is no history to show.';
      return;
    }
    await this.reload();
  }

  async reload() {
    const target = this.target;
    const d = this.dom;
    if (!target) return;
    const mine = ++this.loadSeq;
    d.status.textContent = 'Loading…';
    let data;
    try {
      data = await modApi.person(target.program, target.user.id);
    } catch (err) {
      if (mine === this.loadSeq) d.status.textContent = [refusalText(err), this.followUp].filter(Boolean).join(' ');
      return;
    }
    if (mine !== this.loadSeq) return;
    d.status.textContent = this.followUp;
    this.render(data || {});
  }

  render(data) {
    const d = this.dom;
    const user = data.user && typeof data.user === 'object' ? data.user : this.target.user;
    this.target.user = { ...this.target.user, ...user };
    d.title.textContent = staffName(this.target.user);
    const enrollment = data.enrollment && typeof data.enrollment === 'object' ? data.enrollment : null;
    const standing = [
      enrollment ? `${enrollment.role === 'staff' ? 'Staff' : 'Participant'}, ${enrollment.status}` : '',
      Number.isInteger(data.active_warnings) ? `${data.active_warnings} active warning${data.active_warnings === 1 ? '' : 's'}` : '',
    ].filter(Boolean);
    d.standing.textContent = standing.join(' · ');
    this.renderActions(enrollment ? enrollment.status : null);

    const notes = Array.isArray(data.notes) ? data.notes : [];
    fill(
      d.notes,
      notes.map((n) =>
        el('li', { className: 'history-item' }, [
          el('p', { className: 'history-text', text: typeof n.body === 'string' ? n.body : '' }),
          el('p', { className: 'history-meta muted' }, [`${staffName(n.author)} · `, when(n.created_at)]),
        ]),
      ),
      'No notes yet.',
    );

    const now = Date.now();
    const mutes = (Array.isArray(data.mutes) ? data.mutes : []).map((m) => {
      const room = m.room_name || this.hooks.roomName(m.room);
      return el('li', { className: 'history-item history-current' }, [
        el('p', { className: 'history-text', text: `Muted in ${room} ${formatUntil(m.until)}` }),
        el('button', { className: 'btn btn-quiet btn-small', text: `Lift mute in ${room}…`, attrs: { type: 'button', 'data-act': 'unmute', 'data-room': m.room, 'data-room-name': room } }),
      ]);
    });
    const warnings = (Array.isArray(data.warnings) ? data.warnings : []).map((w) => {
      const active = Date.parse(w.expires_at) > now;
      const extra = [active ? `active ${formatUntil(w.expires_at)}` : 'expired', w.mute_minutes ? `led to a ${w.mute_minutes}-minute mute` : '']
        .filter(Boolean)
        .join(' · ');
      return el('li', { className: `history-item${active ? ' history-current' : ''}` }, [
        el('p', { className: 'history-text', text: `Warning: ${typeof w.reason === 'string' ? w.reason : ''}` }),
        el('p', { className: 'history-meta muted' }, [when(w.created_at), ` · ${extra}`]),
      ]);
    });
    fill(d.warnings, [...mutes, ...warnings], 'No warnings or mutes.');

    const queue = Array.isArray(data.queue) ? data.queue : [];
    fill(
      d.queue,
      queue.map((q) =>
        el('li', { className: 'history-item' }, [
          el('p', { className: 'history-text', text: `${KIND_LABEL[q.kind] || 'Item'} in ${q.room_name || this.hooks.roomName(q.room)} · ${q.status}` }),
          el('p', { className: 'history-meta muted' }, [when(q.created_at)]),
        ]),
      ),
      'Nothing in the queue about them.',
    );

    const audit = Array.isArray(data.audit) ? data.audit : [];
    fill(
      d.audit,
      audit.map((a) =>
        el('li', { className: 'history-item' }, [
          el('p', { className: 'history-text', text: auditLine(a) }),
          el('p', { className: 'history-meta muted', attrs: { title: actionText(a.action) } }, [when(a.at)]),
        ]),
      ),
      'No actions recorded.',
    );
    d.body.hidden = false;
  }

  renderActions(status) {
    const t = this.target;
    const buttons = [];
    if (status === 'banned') {
      buttons.push(['unban', 'Lift ban…']);
    } else {
      buttons.push(['warn', 'Warn…']);
      if (t.room) buttons.push(['mute', `Mute in ${t.roomName || 'this room'}…`], ['remove', `Remove from ${t.roomName || 'this room'}…`]);
      buttons.push(['ban', 'Ban from program…']);
    }
    this.dom.actions.replaceChildren(...buttons.map(([act, label]) => el('button', { className: 'btn btn-quiet btn-small', text: label, attrs: { type: 'button', 'data-act': act } })));
  }

  /** data: the button's dataset (the room of a mute to lift) */
  async act(act, data) {
    const t = this.target;
    const a = this.hooks.actions;
    if (!t) return;
    let done = false;
    let followUp = '';
    if (act === 'unmute') done = await a.unmute({ room: data.room, roomName: data.roomName, user: t.user });
    else if (act === 'unban') done = await a.unban({ program: t.program, user: t.user });
    else if (act === 'warn') done = await a.warn({ program: t.program, user: t.user, room: t.room });
    else if (act === 'mute') done = await a.mute({ room: t.room, roomName: t.roomName, user: t.user });
    else if (act === 'remove') done = await a.removeFromRoom({ room: t.room, roomName: t.roomName, user: t.user });
    else if (act === 'ban') {
      const next = await a.ban({ program: t.program, user: t.user });
      done = next !== false;
      followUp = next || '';
    }
    if (!done || this.target !== t) return;
    this.followUp = followUp;
    this.reload();
  }

  async saveNote() {
    const d = this.dom;
    const t = this.target;
    const body = d.noteBody.value.trim();
    if (!t) return;
    if (!body) {
      d.noteError.textContent = 'Write the note first.';
      d.noteBody.focus();
      return;
    }
    d.noteError.textContent = '';
    try {
      await modApi.addNote(t.program, t.user.id, body);
      d.noteBody.value = '';
      await this.reload();
    } catch (err) {
      d.noteError.textContent = refusalText(err);
    }
  }
}
