// What the room list says about each room: how many messages others wrote
// since my read marker, and the latest line. The listing (GET /api/rooms)
// gives both as of when it was read; messages held since (live in the joined
// room, or caught up) and read markers moved since (here, or `read` from my
// other devices) keep them current. Pure: derived from the room each time, so
// an event seen twice is never counted twice.

import { clip, displayName } from './format.js';
import { reasonOf, tombstoneText, writerName } from './tombstone.js';

export const MAX_UNREAD = 999; // the server caps its count there too

/** Take what the listing says about my reading of a room. */
export function applyListing(room, meta) {
  if (Number.isInteger(meta.last_read_seq) && meta.last_read_seq >= 0) room.lastReadSeq = Math.max(room.lastReadSeq, meta.last_read_seq);
  room.listedUnread = Number.isInteger(meta.unread) && meta.unread > 0 ? meta.unread : 0;
  room.listedAt = Number.isInteger(meta.last_seq) ? meta.last_seq : 0;
  room.listedLatest = isLatest(meta.latest) ? meta.latest : null;
}

/** My read marker moved (answer to my POST, or a `read` frame). Returns true when it did. */
export function applyRead(room, lastReadSeq) {
  if (!Number.isInteger(lastReadSeq) || lastReadSeq <= room.lastReadSeq) return false;
  room.lastReadSeq = lastReadSeq;
  return true;
}

/**
 * Does the listing's count still matter? Not once we hold every event from my
 * read marker up to where the listing was taken: then we count ourselves.
 * When the marker moved but we do not hold what lies between, the count is
 * stale (ask the server again).
 */
export function countIsOurs(room) {
  if (room.lastReadSeq >= room.listedAt) return true;
  const holdsFrom = room.loaded && (room.firstSeq === null ? !room.hasMoreBefore : room.firstSeq <= room.lastReadSeq + 1);
  return holdsFrom && room.lastSeq >= room.listedAt;
}

/** Messages by others after my read marker, as far as we know. */
export function unreadCount(room, meId) {
  const ours = countIsOurs(room);
  const from = ours ? room.lastReadSeq : room.listedAt;
  let n = ours ? 0 : room.listedUnread;
  const me = meId === null || meId === undefined ? null : String(meId);
  for (const ev of room.events.values()) {
    if (ev.seq > from && ev.type === 'message' && !(ev.author && String(ev.author.id) === me)) n += 1;
  }
  return Math.min(n, MAX_UNREAD);
}

function isLatest(latest) {
  return !!latest && typeof latest === 'object' && Number.isInteger(latest.seq);
}

/**
 * The room's latest message for its line in the list: {who, text, ts, seq,
 * removed} or null. `who` is "You" for mine. An erased message reads as its
 * tombstone does in the timeline (tombstone.js), by why it was erased:
 * `whyRemoved(ev)` gives the reason of a message we hold (falsy when it was not
 * erased), the listing gives it with `removed`. One from a person I muted for
 * myself (`mutedByMe(authorId)`) keeps its words to itself.
 */
export function latestLine(room, meId, whyRemoved, mutedByMe = () => false) {
  let held = null;
  for (const ev of room.events.values()) if (ev.type === 'message' && (!held || ev.seq > held.seq)) held = ev;
  const listed = room.listedLatest;
  const me = meId === null || meId === undefined ? null : String(meId);
  const pick = held && (!listed || held.seq >= listed.seq) ? held : listed;
  if (!pick) return null;
  const author = pick.author && typeof pick.author === 'object' ? pick.author : null;
  const gone = pick === held ? whyRemoved(held) : pick.excerpt === null || pick.excerpt === undefined;
  const why = gone ? reasonOf(pick === held ? gone : pick.removed) : null;
  const who = author && String(author.id) === me ? 'You' : writerName(displayName(author), why);
  if (!why && author && who !== 'You' && mutedByMe(author.id)) {
    return { who: 'A person you muted', text: 'message folded away', ts: pick.ts, seq: pick.seq, removed: true };
  }
  const words = pick === held ? held.body : pick.excerpt;
  return { who, text: why ? tombstoneText(why) : clip(words, 80), ts: pick.ts, seq: pick.seq, removed: !!why };
}

/**
 * How many events to ask for when a room is first opened: one page, or
 * enough (up to `max`) to reach back to my read marker, so the first unread
 * message and its "new since you were here" line are there at once.
 */
export function firstPageSize(room, pageSize, max) {
  const span = room.serverLastSeq - room.lastReadSeq;
  if (!(room.lastReadSeq > 0) || span < pageSize) return pageSize;
  return Math.min(max, span + 10);
}
