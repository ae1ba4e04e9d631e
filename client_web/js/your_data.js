// "Your data": download a copy of everything Alongside holds about me, and read
// who my record was disclosed to (the accounting of disclosures, 42 CFR Part 2).
// The download asks the server for a short-lived link (POST /api/me/export,
// bound to this session) and follows it; the browser saves the JSON file the
// link answers with. Everything is inserted as text.

import { api } from './api.js';
import { formatFullTime } from './format.js';

const KIND_TEXT = {
  staff_export: 'Copy of your record sent by staff',
  legal_hold: 'Disclosed under legal process',
};

/** One line of the accounting: when, what kind, to whom, why, by whom. */
export function disclosureNode(item) {
  const li = document.createElement('li');
  li.className = 'resource disclosure';
  const title = document.createElement('span');
  title.className = 'resource-name';
  title.textContent = `${KIND_TEXT[item.kind] || 'Disclosure'} to ${item.recipient || 'someone'}`;
  const when = document.createElement('span');
  when.className = 'resource-description';
  const who = item.disclosed_by && item.disclosed_by.display_name ? ` by ${item.disclosed_by.display_name}` : '';
  const where = item.program && item.program.name ? ` (${item.program.name})` : '';
  when.textContent = `${formatFullTime(item.at)}${who}${where}`;
  const why = document.createElement('span');
  why.textContent = `Purpose: ${item.purpose || ''}`;
  const what = document.createElement('span');
  what.className = 'resource-description';
  what.textContent = `What was shared: ${item.scope || ''}`;
  li.append(title, when, why, what);
  return li;
}

export function setupYourData({ button, dialog, title, download, status, list, empty, listStatus }) {
  async function loadDisclosures() {
    listStatus.textContent = 'Loading…';
    try {
      const data = await api.myDisclosures();
      const items = data && Array.isArray(data.disclosures) ? data.disclosures : [];
      list.replaceChildren(...items.map(disclosureNode));
      list.hidden = items.length === 0;
      empty.hidden = items.length !== 0;
      listStatus.textContent = '';
    } catch {
      listStatus.textContent = 'We could not load this just now. Please try again later.';
    }
  }

  function open() {
    status.textContent = '';
    if (!dialog.open) dialog.showModal();
    title.focus();
    loadDisclosures();
  }

  download.addEventListener('click', async () => {
    download.disabled = true;
    status.textContent = 'Preparing your download…';
    try {
      const link = await api.requestExport();
      const a = document.createElement('a');
      a.href = link.url; // same origin; the session cookie goes with it
      a.download = '';
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      status.textContent =
        'Your download has started. The file is yours: keep it somewhere safe, as it holds your messages.';
    } catch (err) {
      status.textContent =
        err && err.code === 'network'
          ? 'We cannot reach Alongside right now. Please try again.'
          : 'We could not prepare your download. Please try again.';
    } finally {
      download.disabled = false;
    }
  });

  button.addEventListener('click', open);
  dialog.addEventListener('click', (ev) => {
    if (ev.target === dialog) dialog.close();
  });
  return { open };
}
