// What a reader can do with a message: press a reaction to give or take it
// back, open the reaction picker, reply, go to the message a reply answers,
// and under "More": report it, say "I'm worried about this person", or mute
// its writer for myself (a folded message of theirs has "Show"). Support
// offered to me privately under my message can be put away.
// One listener on the whole list reads the buttons' data-action, so the
// thousands of nodes a long room renders over time carry no handlers.
// The picker and the "More" menu are small groups of buttons, moved under
// the message they are opened for (one at a time): arrow keys move between
// their buttons, Escape closes them and gives focus back to their opener.

import { displayName } from './format.js';
import { el } from './render.js';
import { REACTIONS, isMine } from './reactions.js';

export class MessageActions {
  /**
   * @param {HTMLElement} list  the message list
   * @param {{room: () => object|null, meId: () => any, react: (room, seq, emoji, on) => void,
   *          reply: (room, seq) => void, jump: (seq) => void,
   *          flag: (kind: 'report'|'concern', room, seq, returnTo: HTMLElement) => void,
   *          mutedByMe: (userId) => boolean, muteWriter: (room, seq, on: boolean) => void,
   *          reveal: (room, seq) => void, dismissCrisis: (room, seq) => void}} hooks
   */
  constructor(list, hooks) {
    this.hooks = hooks;
    this.opener = null;
    this.popup = null; // the picker or the menu, while one is open
    this.picker = el(
      'div',
      { className: 'reaction-picker', attrs: { id: 'reaction-picker', role: 'group', 'aria-label': 'Choose a reaction' } },
      REACTIONS.map((r) =>
        el('button', { className: 'reaction-choice', text: r.emoji, attrs: { type: 'button', 'data-emoji': r.key, 'aria-label': r.name, title: r.name } }),
      ),
    );
    this.menu = el('div', { className: 'msg-menu', attrs: { id: 'message-menu', role: 'group', 'aria-label': 'More for this message' } });
    for (const popup of [this.picker, this.menu]) {
      popup.addEventListener('keydown', (ev) => this.onPopupKey(ev));
      popup.addEventListener('focusout', (ev) => {
        if (!popup.contains(ev.relatedTarget) && ev.relatedTarget !== this.opener) this.close(false);
      });
    }
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
    if (button.closest('.msg-menu')) {
      this.onMenuChoice(button.dataset.choice, room, seq);
      return;
    }
    switch (button.dataset.action) {
      case 'toggle':
        this.hooks.react(room, seq, button.dataset.emoji, button.getAttribute('aria-pressed') !== 'true');
        break;
      case 'pick':
        if (this.opener === button) this.close(true);
        else this.openPicker(li, button, room, seq);
        break;
      case 'more':
        if (this.opener === button) this.close(true);
        else this.openMenu(li, button, room, seq);
        break;
      case 'reply':
        this.hooks.reply(room, seq);
        break;
      case 'jump':
        this.hooks.jump(Number(button.dataset.target));
        break;
      case 'reveal':
        this.hooks.reveal(room, seq);
        break;
      case 'dismiss-crisis':
        this.hooks.dismissCrisis(room, seq);
        break;
      default:
    }
  }

  openPicker(li, opener, room, seq) {
    for (const choice of this.picker.children) {
      choice.setAttribute('aria-pressed', isMine(room.reactions, seq, choice.dataset.emoji, this.hooks.meId()) ? 'true' : 'false');
    }
    this.show(this.picker, li, opener);
  }

  openMenu(li, opener, room, seq) {
    const ev = room.events.get(seq);
    if (!ev || !ev.author) return;
    const name = displayName(ev.author);
    const muted = this.hooks.mutedByMe(ev.author.id);
    const choice = (key, text) => el('button', { className: 'msg-menu-choice', text, attrs: { type: 'button', 'data-choice': key } });
    this.menu.replaceChildren(
      choice('report', 'Report this message'),
      choice('concern', 'I’m worried about this person'),
      choice(muted ? 'unmute' : 'mute', muted ? `Unmute ${name} for me` : `Mute ${name} for me`),
    );
    this.show(this.menu, li, opener);
  }

  onMenuChoice(choice, room, seq) {
    const opener = this.opener;
    this.close(choice === 'mute' || choice === 'unmute');
    if (choice === 'report' || choice === 'concern') this.hooks.flag(choice, room, seq, opener);
    else if (choice === 'mute' || choice === 'unmute') this.hooks.muteWriter(room, seq, choice === 'mute');
  }

  show(popup, li, opener) {
    this.close(false);
    this.opener = opener;
    this.popup = popup;
    opener.setAttribute('aria-expanded', 'true');
    opener.setAttribute('aria-controls', popup.id);
    li.append(popup);
    popup.firstElementChild.focus();
  }

  /** Fold the open picker or menu away; giveBack: focus returns to the button that opened it. */
  close(giveBack) {
    const opener = this.opener;
    this.opener = null;
    if (this.popup) this.popup.remove();
    this.popup = null;
    if (!opener) return;
    opener.setAttribute('aria-expanded', 'false');
    opener.removeAttribute('aria-controls');
    if (giveBack && opener.isConnected) opener.focus();
  }

  onPopupKey(ev) {
    if (!this.popup) return;
    const choices = [...this.popup.children];
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
