// What the console shows of a room it watches: its latest messages (tombstones
// included), how many arrived since the moderator last looked, and who is
// online, with the names staff may see. Pure; the events are held by room.js.

import { isRemoved, removalReason } from '../room.js';
import { staffName } from './words.js';

export const RECENT = 50;

/** The room's last `n` messages, ascending, each as {ev, removed}. */
export function recentMessages(room, n = RECENT) {
  const out = [];
  for (const ev of room.events.values()) if (ev.type === 'message') out.push(ev);
  out.sort((a, b) => a.seq - b.seq);
  return out.slice(-n).map((ev) => ({ ev, removed: removalReason(room, ev) })); // null, or why it was erased
}

/** Messages with seq > seenSeq (not removed): the room's "new" count. */
export function newSince(room, seenSeq) {
  let n = 0;
  for (const ev of room.events.values()) if (ev.type === 'message' && ev.seq > seenSeq && !isRemoved(room, ev)) n += 1;
  return n;
}

/** The latest message's seq (0 when none). */
export function latestMessageSeq(room) {
  let top = 0;
  for (const ev of room.events.values()) if (ev.type === 'message' && ev.seq > top) top = ev.seq;
  return top;
}

/**
 * A peer ({id, display_name}) with what staff know of them (by id), for showing:
 * "Pat (Patricia Doe, @pat)".
 */
export function peerName(peer, known) {
  const id = peer && typeof peer === 'object' ? String(peer.id) : '';
  const info = id && known ? known.get(id) : null;
  return staffName(info ? { ...info, display_name: peer.display_name || info.display_name } : peer);
}

/** "Online: Pat (Patricia Doe, @pat), Kim" or "Nobody online", deduplicated by id. */
export function onlineText(peers, known) {
  const seen = new Set();
  const names = [];
  for (const p of Array.isArray(peers) ? peers : []) {
    if (!p || typeof p !== 'object' || seen.has(String(p.id))) continue;
    seen.add(String(p.id));
    names.push(peerName(p, known));
  }
  return names.length ? `Online: ${names.join(', ')}` : 'Nobody online';
}
