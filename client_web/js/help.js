// "Get help now": a dialog listing crisis resources from the server
// (GET /api/crisis-resources). Nothing is hard-coded except the fallback line,
// shown when the resources cannot be loaded. The list is fetched once at start
// and kept, so the dialog still works if the connection drops later.

import { api } from './api.js';
import { resourceNode } from './render.js';

export function setupHelp({ button, dialog, title, list, status, fallback }) {
  let cached = null; // last successful list
  let inflight = null;

  function render(state) {
    const resources = cached || [];
    list.replaceChildren(...resources.map(resourceNode));
    list.hidden = resources.length === 0;
    const failed = state === 'failed' && resources.length === 0;
    fallback.hidden = !(failed || (state === 'loaded' && resources.length === 0));
    status.textContent = state === 'loading' && resources.length === 0 ? 'Loading help resources…' : '';
  }

  function load() {
    if (inflight) return inflight;
    inflight = api
      .crisisResources()
      .then((data) => {
        const items = data && Array.isArray(data.resources) ? data.resources.filter((r) => r && typeof r === 'object') : [];
        cached = items;
        return 'loaded';
      })
      .catch(() => 'failed')
      .finally(() => {
        inflight = null;
      });
    return inflight;
  }

  function open() {
    render(cached ? 'loaded' : 'loading');
    if (!dialog.open) dialog.showModal();
    title.focus();
    load().then((state) => {
      if (dialog.open) render(state);
    });
  }

  button.addEventListener('click', open);
  // A click on the backdrop (outside the dialog box) closes it.
  dialog.addEventListener('click', (ev) => {
    if (ev.target === dialog) dialog.close();
  });

  load(); // prefetch
  return { open, reload: load };
}
