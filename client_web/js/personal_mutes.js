// People I muted for myself only (GET/POST/DELETE /api/me/mutes): their
// messages fold into a small "Message from a person you muted · Show" line
// on my screens, nothing more. Nobody else's view changes and they are not
// told. Which folded messages I chose to show again is kept per message while
// the page is open.

import { api } from './api.js';

/** The user ids of an answer of GET /api/me/mutes (items: ids, {user: {id}}, {user: id} or {id}). */
export function muteIds(data) {
  const items = data && Array.isArray(data.mutes) ? data.mutes : Array.isArray(data) ? data : [];
  const ids = new Set();
  for (const item of items) {
    let id = item;
    if (item && typeof item === 'object') id = item.user && typeof item.user === 'object' ? item.user.id : item.user ?? item.id;
    if (id !== undefined && id !== null && id !== '') ids.add(String(id));
  }
  return ids;
}

export class PersonalMutes {
  /** @param {(ids: Set<string>, changed: string|null) => void} onChange  changed: the one person muted or unmuted */
  constructor(onChange) {
    this.onChange = onChange;
    this.ids = new Set();
    this.revealed = new Set(); // "roomKey seq" of folded messages shown anyway
  }

  has(userId) {
    return userId !== null && userId !== undefined && this.ids.has(String(userId));
  }

  /** Is this message folded away (its writer muted by me and not shown on request)? */
  hides(roomKey, ev) {
    return !!ev && ev.type === 'message' && !!ev.author && this.has(ev.author.id) && !this.revealed.has(`${roomKey} ${ev.seq}`);
  }

  reveal(roomKey, seq) {
    this.revealed.add(`${roomKey} ${seq}`);
  }

  async load() {
    try {
      this.ids = muteIds(await api.myMutes());
      this.onChange(this.ids, null);
    } catch {
      // Nothing folded: the conversation still works; the next start tries again.
    }
  }

  /** Mute (on) or unmute (off) one person for me; throws the ApiError when refused. */
  async set(userId, on) {
    const id = String(userId);
    if (on) await api.muteForMe(userId);
    else await api.unmuteForMe(userId);
    if (on) this.ids.add(id);
    else this.ids.delete(id);
    this.revealed.clear(); // muting someone again folds all of theirs again
    this.onChange(this.ids, id);
  }

  clear() {
    this.ids.clear();
    this.revealed.clear();
  }
}
