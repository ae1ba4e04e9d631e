// Notes for me alone at the top of the page: a moderator's warning, or the
// support offered after a message of mine when that message is not on screen.
// Each stays until put away with its "Got it" button; focus then goes to the
// next note, or to the main area.

import { el, resourceNode } from './render.js';

let made = 0;

export class NoticesView {
  /** @param {HTMLElement} region  the #notices section (hidden while empty) */
  constructor(region) {
    this.region = region;
  }

  /** Add a note: {title, text, resources?}. Returns its node. */
  add({ title, text, resources = [], tone = 'calm' }) {
    const id = `notice-${++made}`;
    const node = el('article', { className: `notice-card notice-${tone}`, attrs: { 'aria-labelledby': id } }, [
      el('h2', { className: 'notice-title', text: title, attrs: { id } }),
      el('p', { className: 'notice-text', text }),
      resources.length ? el('ul', { className: 'resource-list' }, resources.map(resourceNode)) : null,
    ]);
    const done = el('button', { className: 'btn btn-quiet btn-small', text: 'Got it', attrs: { type: 'button' } });
    done.addEventListener('click', () => this.remove(node));
    node.append(el('div', { className: 'notice-actions' }, [done]));
    this.region.append(node);
    this.region.hidden = false;
    return node;
  }

  remove(node) {
    const next = node.nextElementSibling || node.previousElementSibling;
    node.remove();
    this.region.hidden = this.region.childElementCount === 0;
    const button = next && next.querySelector('button');
    if (button) button.focus();
    else document.getElementById('main')?.focus();
  }

  clear() {
    this.region.replaceChildren();
    this.region.hidden = true;
  }
}
