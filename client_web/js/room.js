// Room state: which history events we hold, and the sequence bookkeeping.
//
// Pure data + pure-ish functions (they mutate the room object they are given and
// return what changed); no DOM, no network. Tested with node:
// `node client_web/tests/unit.test.mjs`.
//
// Vocabulary:
//   lastSeq  – we hold every event from firstSeq up to lastSeq with nothing
//              missing (as far as the server told us). This is the value sent
//              as `since` when (re)joining and as `after` when fetching a gap.
//   maxSeq   – highest seq held; greater than lastSeq only while a gap is open.
//   firstSeq – lowest seq held (older pages extend it downwards).
//   lastReadSeq – my read marker (the server's; it only moves forward).
//
// `reaction` events are held like any other and folded into `reactions`
// (reactions.js) as they are stored, whatever order they arrive in.

import { foldReaction, newReactions } from './reactions.js';
import { reasonOf } from './tombstone.js';

/** @param {{id:any,name?:string,kind?:string,role?:string,cohort?:any,last_seq?:number}} meta  a room of the listing */
export function createRoom(meta) {
  return {
    key: roomKey(meta.id),
    id: meta.id,
    name: meta.name ?? '',
    kind: meta.kind ?? '',
    role: meta.role ?? 'member',
    cohort: meta.cohort ?? null,
    state: null, // the last `room_state` frame (is anyone watching the room)
    observingUntil: null, // epoch ms while I listen only here
    mutedUntil: null, // epoch ms while a moderator has muted me here
    mutedReason: null,
    nextSendAt: 0, // slow mode: epoch ms when I may send again (slow_mode.js)
    crisis: new Map(), // support offered to me privately: message seq -> resources (crisis_card.js)
    serverLastSeq: Number.isInteger(meta.last_seq) ? meta.last_seq : 0,
    events: new Map(), // seq -> event
    redactions: new Map(), // target seq -> seq of the `redacted` event
    reactions: newReactions(),
    lastReadSeq: 0,
    listedUnread: 0, // from the listing (unread.js)
    listedAt: 0, // the room's last seq when it was listed
    listedLatest: null,
    firstSeq: null,
    lastSeq: 0,
    maxSeq: 0,
    hasMoreBefore: false,
    loaded: false,
  };
}

/** Room ids may be numbers or strings on the wire; key them uniformly. */
export function roomKey(id) {
  return String(id);
}

export function isSeq(n) {
  return Number.isInteger(n) && n > 0;
}

/** A frame/event that belongs to a room's stored history. */
export function isHistoryEvent(ev) {
  return !!ev && typeof ev === 'object' && typeof ev.type === 'string' && isSeq(ev.seq);
}

function store(room, ev, added) {
  if (!isHistoryEvent(ev) || room.events.has(ev.seq)) return;
  room.events.set(ev.seq, ev);
  if (ev.seq > room.maxSeq) room.maxSeq = ev.seq;
  if (room.firstSeq === null || ev.seq < room.firstSeq) room.firstSeq = ev.seq;
  if (ev.type === 'redacted' && isSeq(ev.target)) room.redactions.set(ev.target, ev.seq);
  if (ev.type === 'reaction') foldReaction(room.reactions, ev);
  added.push(ev);
}

function advance(room) {
  while (room.events.has(room.lastSeq + 1)) room.lastSeq += 1;
}

function sorted(list) {
  return list.sort((a, b) => a.seq - b.seq);
}

/** Forget everything (e.g. the server refused our `since`). */
export function resetRoom(room) {
  room.events.clear();
  room.redactions.clear();
  room.reactions.clear();
  room.firstSeq = null;
  room.lastSeq = 0;
  room.maxSeq = 0;
  room.hasMoreBefore = false;
  room.loaded = false;
}

/**
 * First load: the latest page (`GET …/messages?limit=N`).
 * @returns {object[]} events added, ascending
 */
export function applyLatestPage(room, events, hasMore) {
  resetRoom(room);
  const added = [];
  for (const ev of events || []) store(room, ev, added);
  room.lastSeq = room.maxSeq;
  room.hasMoreBefore = !!hasMore;
  room.loaded = true;
  if (room.lastSeq > room.serverLastSeq) room.serverLastSeq = room.lastSeq;
  return sorted(added);
}

/**
 * A page of older events (`before=firstSeq`). Only events older than what we
 * hold are taken, so a page can never punch holes or duplicate.
 */
export function applyBeforePage(room, events, hasMore) {
  const added = [];
  const limit = room.firstSeq;
  for (const ev of events || []) {
    if (!isHistoryEvent(ev)) continue;
    if (limit !== null && ev.seq >= limit) continue;
    store(room, ev, added);
  }
  room.hasMoreBefore = !!hasMore;
  return sorted(added);
}

/**
 * A page of newer events (`after=lastSeq`). The server's history is the record:
 * once it has answered, everything up to the highest seq it returned is held.
 * When it says there is nothing more, any gap we still see is closed too (the
 * server could not fill it, waiting forever would stall the room).
 */
export function applyAfterPage(room, events, hasMore) {
  const added = [];
  let top = room.lastSeq;
  for (const ev of events || []) {
    if (!isHistoryEvent(ev) || ev.seq <= room.lastSeq) continue;
    store(room, ev, added);
    if (ev.seq > top) top = ev.seq;
  }
  room.lastSeq = top;
  advance(room);
  if (!hasMore && room.maxSeq > room.lastSeq) room.lastSeq = room.maxSeq;
  if (room.lastSeq > room.serverLastSeq) room.serverLastSeq = room.lastSeq;
  return sorted(added);
}

/**
 * One live event from the WebSocket. Events at or below lastSeq are ignored
 * (never shown twice). An event beyond lastSeq+1 is held and a gap is reported.
 * @returns {{added: object|null, gap: boolean}}
 */
export function applyLive(room, ev) {
  if (!isHistoryEvent(ev) || ev.seq <= room.lastSeq || room.events.has(ev.seq)) {
    return { added: null, gap: hasGap(room) };
  }
  const added = [];
  store(room, ev, added);
  advance(room);
  if (room.lastSeq > room.serverLastSeq) room.serverLastSeq = room.lastSeq;
  return { added: added[0] || null, gap: hasGap(room) };
}

export function hasGap(room) {
  return room.maxSeq > room.lastSeq;
}

/** True when the server reports a seq we do not hold yet. */
export function isBehind(room, serverLastSeq) {
  return isSeq(serverLastSeq) && serverLastSeq > room.lastSeq;
}

/** All held events, ascending. */
export function heldEvents(room) {
  return [...room.events.values()].sort((a, b) => a.seq - b.seq);
}

/** Has this message been erased (by a `redacted` event or in the stored copy)? */
export function isRemoved(room, ev) {
  if (!ev || ev.type !== 'message') return false;
  if (room.redactions.has(ev.seq)) return true;
  return ev.redacted === true || ev.removed === true || ev.deleted === true || ev.body === null;
}

/** Why an erased message was erased ('moderator', 'deleted', 'expired'), or null when it was not. */
export function removalReason(room, ev) {
  if (!isRemoved(room, ev)) return null;
  const redaction = room.redactions.has(ev.seq) ? room.events.get(room.redactions.get(ev.seq)) : null;
  return reasonOf(redaction && redaction.reason ? redaction.reason : ev.removed);
}

/** My role after these new events, when one of them changed it (`member_changed` about me), else null. */
export function myNewRole(events, meId) {
  let role = null;
  if (meId === null || meId === undefined) return role;
  for (const ev of events) {
    if (ev && ev.type === 'member_changed' && ev.user && String(ev.user.id) === String(meId) && typeof ev.role === 'string') role = ev.role;
  }
  return role;
}
