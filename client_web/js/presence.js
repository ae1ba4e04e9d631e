// Who is here now and who is typing, per room, from the `presence` and
// `typing` frames (never stored); the open room's lines under its title and
// above the composer show them.

import { displayName, presenceText, typingText } from './format.js';

const TYPING_SHOW_MS = 4000;

export class Presence {
  /**
   * @param {{presence: HTMLElement, typing: HTMLElement}} dom
   * @param {{openKey: () => string|null, meId: () => any}} hooks
   */
  constructor(dom, hooks) {
    this.dom = dom;
    this.hooks = hooks;
    this.online = new Map(); // room key -> [PEER]
    this.typing = new Map(); // room key -> Map(user id -> {name, until})
  }

  /** Forget a room (left, or removed): a fresh `presence` follows the next join. */
  forget(key) {
    this.online.delete(key);
    this.typing.delete(key);
  }

  clear() {
    this.online.clear();
    this.typing.clear();
  }

  onPresence(key, online) {
    this.online.set(key, Array.isArray(online) ? online : []);
    if (key === this.hooks.openKey()) this.renderPresence();
  }

  renderPresence() {
    const key = this.hooks.openKey();
    const peers = key ? this.online.get(key) : null;
    this.dom.presence.textContent = peers ? presenceText(peers, this.hooks.meId()) : '';
  }

  onTyping(key, user) {
    if (!user || typeof user !== 'object') return;
    const meId = this.hooks.meId();
    if (meId !== null && meId !== undefined && String(user.id) === String(meId)) return;
    let map = this.typing.get(key);
    if (!map) {
      map = new Map();
      this.typing.set(key, map);
    }
    map.set(String(user.id), { name: displayName(user), until: Date.now() + TYPING_SHOW_MS });
    if (key === this.hooks.openKey()) {
      this.renderTyping();
      setTimeout(() => this.renderTyping(), TYPING_SHOW_MS + 50);
    }
  }

  /** These people's messages arrived: they are no longer typing them. */
  stoppedTyping(key, authors) {
    const map = this.typing.get(key);
    if (map) for (const author of authors) if (author) map.delete(String(author.id));
    if (authors.length) this.renderTyping();
  }

  renderTyping() {
    const key = this.hooks.openKey();
    const map = key ? this.typing.get(key) : null;
    const now = Date.now();
    const names = [];
    if (map) {
      for (const [id, t] of map) {
        if (t.until > now) names.push(t.name);
        else map.delete(id);
      }
    }
    this.dom.typing.textContent = typingText(names);
  }

  /** The connection dropped: nobody's presence is known any more. */
  down() {
    this.clear();
    this.renderPresence();
    this.renderTyping();
  }
}
