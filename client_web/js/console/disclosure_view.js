// Sharing a person's record with someone outside the program (a disclosure under
// 42 CFR Part 2): staff name the recipient and the purpose, the server answers with
// the program's record of the person (carrying the notice prohibiting redisclosure)
// and records the disclosure in the person's accounting, which the person can read.
// The block shows only to those the server lets disclose (admins, the program's
// staff): a refused GET of the accounting keeps it hidden.

import { formatFullTime } from '../format.js';
import { el } from '../render.js';
import { refusalText } from './action_dialog.js';
import { modApi } from './api.js';
import { staffName } from './words.js';

const KIND_TEXT = { staff_export: 'Exported', legal_hold: 'Disclosed under legal process' };

/** One accounting line: what, to whom, why, by whom, when. */
export function disclosureItem(d) {
  const by = d.disclosed_by ? ` by ${staffName(d.disclosed_by)}` : '';
  return el('li', { className: 'history-item' }, [
    el('p', { className: 'history-text', text: `${KIND_TEXT[d.kind] || 'Disclosed'} to ${d.recipient}: ${d.purpose}` }),
    el('p', { className: 'history-meta muted', text: `${formatFullTime(d.at)}${by}` }),
  ]);
}

/** Offer the export to the browser as a file (the JSON as the server sent it, indented). */
function saveFile(document_, filename) {
  const blob = new Blob([JSON.stringify(document_, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = el('a', { attrs: { href: url, download: filename, hidden: true } });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export class DisclosureView {
  /**
   * @param {Record<string, HTMLElement>} dom  block, form, recipient, purpose, error, status, list,
   *   and the legal hold's holdToggle, holdForm, holdRecipient, holdPurpose, holdScope, holdError
   */
  constructor(dom) {
    this.dom = dom;
    this.target = null;
    this.loadSeq = 0;
    dom.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.exportRecord();
    });
    dom.holdToggle.addEventListener('click', () => this.showHold(dom.holdForm.hidden));
    dom.holdForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.recordHold();
    });
  }

  /** target: {program, user: {id, username?, ...}} as the person view has it */
  async open(target) {
    this.target = target;
    const d = this.dom;
    d.block.hidden = true;
    d.error.textContent = '';
    d.status.textContent = '';
    this.showHold(false);
    if (target.program === null || target.program === undefined) return;
    await this.reload();
  }

  async reload() {
    const t = this.target;
    const mine = ++this.loadSeq;
    let data;
    try {
      data = await modApi.disclosures(t.program, t.user.id);
    } catch {
      return; // not someone who may disclose this person's record: the block stays hidden
    }
    if (mine !== this.loadSeq) return;
    const items = data && Array.isArray(data.disclosures) ? data.disclosures : [];
    this.dom.list.replaceChildren(
      ...(items.length ? items.map(disclosureItem) : [el('li', { className: 'muted', text: 'Not disclosed to anyone yet.' })]),
    );
    this.dom.block.hidden = false;
  }

  async exportRecord() {
    const d = this.dom;
    const t = this.target;
    const recipient = d.recipient.value.trim();
    const purpose = d.purpose.value.trim();
    if (!t) return;
    if (!recipient || !purpose) {
      d.error.textContent = !recipient ? 'Name who receives the record.' : 'Say why it is disclosed.';
      (recipient ? d.purpose : d.recipient).focus();
      return;
    }
    d.error.textContent = '';
    d.status.textContent = 'Preparing the export…';
    try {
      const record = await modApi.exportPerson(t.program, t.user.id, recipient, purpose);
      const who = (record && record.account && record.account.username) || `person-${t.user.id}`;
      saveFile(record, `alongside-export-${who}-${new Date().toISOString().slice(0, 10)}.json`);
      d.recipient.value = '';
      d.purpose.value = '';
      d.status.textContent = `Exported for ${recipient}. The disclosure is recorded in their accounting of disclosures.`;
      await this.reload();
    } catch (err) {
      d.status.textContent = '';
      d.error.textContent = refusalText(err);
    }
  }

  /** Open (on) or close the legal hold's form under its toggle. */
  showHold(on) {
    const d = this.dom;
    d.holdForm.hidden = !on;
    d.holdToggle.setAttribute('aria-expanded', on ? 'true' : 'false');
    d.holdError.textContent = '';
    if (on) d.holdRecipient.focus();
  }

  async recordHold() {
    const d = this.dom;
    const t = this.target;
    const fields = [
      [d.holdRecipient, 'Name who received the record.'],
      [d.holdPurpose, 'Name the legal process (order, case number).'],
      [d.holdScope, 'Say what was disclosed.'],
    ];
    if (!t) return;
    const missing = fields.find(([input]) => !input.value.trim());
    if (missing) {
      d.holdError.textContent = missing[1];
      missing[0].focus();
      return;
    }
    d.holdError.textContent = '';
    try {
      const [recipient, purpose, scope] = fields.map(([input]) => input.value.trim());
      await modApi.recordLegalHold(t.program, t.user.id, recipient, purpose, scope);
      for (const [input] of fields) input.value = '';
      this.showHold(false);
      d.holdToggle.focus();
      d.status.textContent = `Recorded: disclosed to ${recipient} under legal process.`;
      await this.reload();
    } catch (err) {
      d.holdError.textContent = refusalText(err);
    }
  }
}
