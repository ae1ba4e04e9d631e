// Support offered to me privately (`crisis_resources`), kept for this tab: reloading the page in
// a hard moment must not take the card away from under the message it answered.
//
// sessionStorage: this tab only, gone when it closes; forgotten at sign-out and when someone
// else signs in here. Only message seqs and the resources (public help lines) are kept, never
// message text. Storage that is missing or refuses (private browsing, full) keeps nothing: the
// card then lasts as long as the page, as before.

import { cleanResources } from './notices.js';
import { isSeq } from './room.js';

const PREFIX = 'alongside.support.';

const keyOf = (userId, roomKey) => `${PREFIX}${userId}.${roomKey}`;

/** This tab's sessionStorage, or null where the browser refuses it. */
export function tabStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** The support kept for this person in this room: seq -> resources (empty if none or unreadable). */
export function keptSupport(storage, userId, roomKey) {
  const kept = new Map();
  if (!storage || userId === null || userId === undefined) return kept;
  try {
    const saved = JSON.parse(storage.getItem(keyOf(userId, roomKey)) || '[]');
    if (!Array.isArray(saved)) return kept;
    for (const entry of saved) {
      if (!Array.isArray(entry) || !isSeq(entry[0])) continue;
      const resources = cleanResources(entry[1]);
      if (resources.length) kept.set(entry[0], resources);
    }
  } catch {
    // unreadable: nothing kept
  }
  return kept;
}

/** Keep a room's support (seq -> resources) for this person; an empty map forgets the room's. */
export function keepSupport(storage, userId, roomKey, support) {
  if (!storage || userId === null || userId === undefined) return;
  try {
    if (support.size) storage.setItem(keyOf(userId, roomKey), JSON.stringify([...support]));
    else storage.removeItem(keyOf(userId, roomKey));
  } catch {
    // full or refused: the card stays for this page only
  }
}

/** Forget what is kept for everyone but `keepFor` (a user id; null: everyone). */
export function forgetSupport(storage, keepFor = null) {
  if (!storage) return;
  try {
    const mine = keepFor === null || keepFor === undefined ? null : `${PREFIX}${keepFor}.`;
    for (let i = storage.length - 1; i >= 0; i--) {
      const key = storage.key(i);
      if (key && key.startsWith(PREFIX) && !(mine && key.startsWith(mine))) storage.removeItem(key);
    }
  } catch {
    // refused: nothing was kept either
  }
}
