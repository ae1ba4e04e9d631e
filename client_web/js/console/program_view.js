// Program settings, for the people who manage a program (admins, its active
// staff): whether graduates post in their cohort's room, how many first posts of
// a new participant are held for review, and how long message text is kept.
// One form per program; a save sends only what changed (program_options.js),
// and one that starts or shortens a retention period asks once more first.

import { el } from '../render.js';
import { refusalText } from './action_dialog.js';
import { modApi } from './api.js';
import { HOLD_MAX, RETENTION_MAX_DAYS, erasingWarning, managedPrograms, optionChanges, retentionWords } from './program_options.js';

const SERVER_FIELD = { alumni_post_in_cohort: 'alumni', hold_first_posts: 'hold', retention_days: 'retention' };

export class ProgramView {
  /** @param {Record<string, HTMLElement>} dom  status, list */
  constructor(dom) {
    this.dom = dom;
    this.forms = new Map(); // program id -> {program, nodes}
  }

  /** The programs I manage, drawn; how many there are (0: the tab stays hidden). */
  async load(me) {
    let programs = [];
    try {
      const data = await modApi.programs();
      programs = managedPrograms(data && data.programs, me);
    } catch (err) {
      if (err.status !== 401) this.dom.status.textContent = `Programs could not be loaded: ${refusalText(err)}`;
      return 0;
    }
    this.forms.clear();
    this.dom.list.replaceChildren(...programs.map((p) => this.form(p)));
    this.dom.status.textContent = '';
    return programs.length;
  }

  form(program) {
    const id = `program-${program.id}`;
    const hint = (suffix, text) => el('p', { className: 'field-hint', text, attrs: { id: `${id}-${suffix}-hint` } });
    const alumni = el('input', { attrs: { type: 'checkbox', id: `${id}-alumni` } });
    const hold = el('input', { attrs: { type: 'text', inputmode: 'numeric', id: `${id}-hold`, 'aria-describedby': `${id}-hold-hint` } });
    const retention = el('input', {
      attrs: { type: 'text', inputmode: 'numeric', id: `${id}-retention`, 'aria-describedby': `${id}-retention-hint ${id}-retention-now` },
    });
    const effect = el('p', { className: 'field-hint program-retention-now', attrs: { id: `${id}-retention-now` } });
    const warning = el('p', { className: 'form-error', attrs: { id: `${id}-warning` } });
    const error = el('p', { className: 'form-error', attrs: { id: `${id}-error`, 'aria-live': 'assertive' } });
    const save = el('button', { className: 'btn btn-primary btn-small', text: 'Save settings', attrs: { type: 'submit' } });
    const status = el('p', { className: 'muted', attrs: { role: 'status' } });
    const form = el('form', { className: 'form program-form', attrs: { novalidate: true, 'aria-labelledby': `${id}-title`, 'data-program': program.id } }, [
      el('div', { className: 'field' }, [
        el('label', { className: 'checkbox', attrs: { for: `${id}-alumni` } }, [alumni, document.createTextNode(' Graduates may post in their cohort’s room')]),
      ]),
      el('div', { className: 'field' }, [
        el('label', { text: 'Hold the first posts of each new participant for review', attrs: { for: `${id}-hold` } }),
        hint('hold', `How many of their first messages a moderator approves before they are posted (0 to ${HOLD_MAX}; 0 holds none).`),
        hold,
      ]),
      el('div', { className: 'field' }, [
        el('label', { text: 'Erase message text after (days)', attrs: { for: `${id}-retention` } }),
        hint('retention', `Leave empty to keep messages. With a number (1 to ${RETENTION_MAX_DAYS}), the text of every message in this program’s rooms older than that is erased for everyone — in the chat, its history and exports — and cannot be brought back.`),
        retention,
        effect,
      ]),
      warning,
      error,
      el('div', { className: 'form-actions' }, [save]),
      status,
    ]);
    const nodes = { alumni, hold, retention, effect, warning, error, save, status };
    this.forms.set(String(program.id), { program, nodes, confirming: false });
    this.fill(String(program.id));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.save(String(program.id));
    });
    form.addEventListener('input', () => this.unconfirm(String(program.id)));
    return el('section', { className: 'history-block program-block', attrs: { 'aria-labelledby': `${id}-title` } }, [
      el('h3', { text: program.name, attrs: { id: `${id}-title` } }),
      form,
    ]);
  }

  /** The fields as the server last said. */
  fill(key) {
    const { program, nodes } = this.forms.get(key);
    nodes.alumni.checked = !!program.alumni_post_in_cohort;
    nodes.hold.value = String(program.hold_first_posts ?? 0);
    nodes.retention.value = Number.isInteger(program.retention_days) ? String(program.retention_days) : '';
    nodes.effect.textContent = `Now: ${retentionWords(program.retention_days)}`;
  }

  unconfirm(key) {
    const entry = this.forms.get(key);
    entry.confirming = false;
    entry.nodes.warning.textContent = '';
    entry.nodes.save.textContent = 'Save settings';
    entry.nodes.save.removeAttribute('aria-describedby');
  }

  async save(key) {
    const entry = this.forms.get(key);
    const { program, nodes } = entry;
    nodes.error.textContent = '';
    nodes.status.textContent = '';
    for (const input of [nodes.hold, nodes.retention]) input.removeAttribute('aria-invalid');
    const { changes, error, erases } = optionChanges(program, { alumni: nodes.alumni.checked, hold: nodes.hold.value, retention: nodes.retention.value });
    if (error) return this.refuse(nodes, error.field, error.text);
    if (!Object.keys(changes).length) {
      nodes.status.textContent = 'Nothing to save: the settings are as they were.';
      return;
    }
    if (erases && !entry.confirming) {
      entry.confirming = true;
      nodes.warning.textContent = erasingWarning(changes.retention_days);
      nodes.save.textContent = 'Save and erase';
      nodes.save.setAttribute('aria-describedby', nodes.warning.id);
      nodes.save.focus();
      return;
    }
    nodes.save.disabled = true;
    try {
      entry.program = { ...program, ...(await modApi.programOptions(program.id, changes)) };
      this.unconfirm(key);
      this.fill(key);
      nodes.status.textContent = 'Saved.';
    } catch (err) {
      const field = err.body && SERVER_FIELD[err.body.field];
      this.refuse(nodes, field, refusalText(err));
    } finally {
      nodes.save.disabled = false;
    }
  }

  refuse(nodes, field, text) {
    nodes.error.textContent = text;
    const input = field && nodes[field];
    if (input && input !== nodes.alumni) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }
}
