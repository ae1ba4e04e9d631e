// What a reader can do with a message: press a reaction to give or take it
// back, open the reaction picker, reply, or go to the message a reply answers.
// One listener on the whole list reads the buttons' data-action, so the
// thousands of nodes a long room renders over time carry no handlers.
// The picker is one small group of buttons, moved under the message it is
// opened for: arrow keys move between reactions, Escape closes it and gives
// focus back to "React".

import { el } from './render.js';
import { REACTIONS, isMine } from './reactions.js';

export class MessageActions {
  /**
   * @param {HTMLElement} list  the message list
   * @param {{room: () => object|null, meId: () => any, react: (room, seq, emoji, on) => void,
   *          reply: (room, seq) => void, jump: (seq) => void}} hooks
   */
  constructor(list, hooks) {
    this.hooks = hooks;
    this.opener = null;
    this.picker = el(
      'div',
      { className: 'reaction-picker', attrs: { id: 'reaction-picker', role: 'group', 'aria-label': 'Choose a reaction' } },
      REACTIONS.map((r) =>
        el('button', { className: 'reaction-choice', text: r.emoji, attrs: { type: 'button', 'data-emoji': r.key, 'aria-label': r.name, title: r.name } }),
      ),
    );
    this.picker.addEventListener('keydown', (ev) => this.onPickerKey(ev));
    this.picker.addEventListener('focusout', (ev) => {
      if (!this.picker.contains(ev.relatedTarget) && ev.relatedTarget !== this.opener) this.close(false);
    });
    list.addEventListener('click', (ev) => this.onClick(ev));
  }

  onClick(ev) {
    const li = ev.target.closest('li.msg[data-seq]');
    if (!li) return;
    const seq = Number(li.dataset.seq);
    const room = this.hooks.room();
    const button = ev.target.closest('button');
    if (!room || !button) {
      if (!ev.target.closest('a')) li.classList.toggle('msg-active'); // a tap shows React and Reply on touch screens
      return;
    }
    if (button.closest('.reaction-picker')) {
      const emoji = button.dataset.emoji;
      this.close(true);
      this.hooks.react(room, seq, emoji, !isMine(room.reactions, seq, emoji, this.hooks.meId()));
      return;
    }
    switch (button.dataset.action) {
      case 'toggle':
        this.hooks.react(room, seq, button.dataset.emoji, button.getAttribute('aria-pressed') !== 'true');
        break;
      case 'pick':
        if (this.opener === button) this.close(true);
        else this.open(li, button, room, seq);
        break;
      case 'reply':
        this.hooks.reply(room, seq);
        break;
      case 'jump':
        this.hooks.jump(Number(button.dataset.target));
        break;
      default:
    }
  }

  open(li, opener, room, seq) {
    this.close(false);
    this.opener = opener;
    for (const choice of this.picker.children) {
      choice.setAttribute('aria-pressed', isMine(room.reactions, seq, choice.dataset.emoji, this.hooks.meId()) ? 'true' : 'false');
    }
    opener.setAttribute('aria-expanded', 'true');
    opener.setAttribute('aria-controls', this.picker.id);
    li.append(this.picker);
    this.picker.firstElementChild.focus();
  }

  /** Fold the picker away; giveBack: focus returns to its "React" button. */
  close(giveBack) {
    const opener = this.opener;
    this.opener = null;
    this.picker.remove();
    if (!opener) return;
    opener.setAttribute('aria-expanded', 'false');
    opener.removeAttribute('aria-controls');
    if (giveBack && opener.isConnected) opener.focus();
  }

  onPickerKey(ev) {
    const choices = [...this.picker.children];
    const at = choices.indexOf(document.activeElement);
    let next = null;
    if (ev.key === 'Escape') {
      ev.preventDefault();
      this.close(true);
      return;
    }
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') next = choices[(at + 1) % choices.length];
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') next = choices[(at - 1 + choices.length) % choices.length];
    else if (ev.key === 'Home') next = choices[0];
    else if (ev.key === 'End') next = choices[choices.length - 1];
    if (next) {
      ev.preventDefault();
      next.focus();
    }
  }
}
