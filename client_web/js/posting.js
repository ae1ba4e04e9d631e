// Whether I may post in a room now, and how to say why not. It mirrors the
// server's rules (server/rules/monitoring.py posting_refusal and the
// moderation checks): a `reader` may not post; someone observing (listen
// only) may not until it ends; in a locked room or while a moderator has muted
// me only moderators post. The server decides every send anyway; this only
// keeps the page honest about it. Slow mode is not a block: see slow_mode.js.
// Pure.

import { formatUntil } from './format.js';

/** An `until` from the server (ISO 8601 or null) as epoch milliseconds, or null. */
export function untilMs(iso) {
  if (typeof iso !== 'string') return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

export function isObserving(room, now = Date.now()) {
  return room.observingUntil !== null && room.observingUntil !== undefined && room.observingUntil > now;
}

/** Has a moderator muted me here (room.mutedUntil, epoch ms, still ahead)? */
export function isMuted(room, now = Date.now()) {
  return room.role !== 'moderator' && typeof room.mutedUntil === 'number' && room.mutedUntil > now;
}

/** Is the room locked for me (moderators still post)? */
export function isLocked(room) {
  return room.role !== 'moderator' && !!room.state && room.state.locked === true;
}

/**
 * null when I may post; otherwise {reason: 'read_only'}, {reason: 'muted', until, why},
 * {reason: 'locked'} or {reason: 'observing', until}.
 */
export function postingBlock(room, now = Date.now()) {
  if (room.role === 'reader') return { reason: 'read_only' };
  if (isMuted(room, now)) return { reason: 'muted', until: room.mutedUntil, why: room.mutedReason || null };
  if (isLocked(room)) return { reason: 'locked' };
  if (isObserving(room, now)) return { reason: 'observing', until: room.observingUntil };
  return null;
}

const READ_ONLY_TEXT = {
  cohort: 'Your group’s conversation stays here for you to read back. Posting here is closed for you now.',
  direct: 'Your conversation with your counsellor stays here for you to read. Posting here is closed for you now.',
};

/** What replaces the composer when I may not post. */
export function blockText(block, kind, now = new Date()) {
  if (block.reason === 'read_only') return READ_ONLY_TEXT[kind] || 'You can read this room, but not post in it.';
  if (block.reason === 'muted') {
    const why = typeof block.why === 'string' && block.why.trim() ? ` The reason given: “${block.why.trim()}”.` : '';
    return `A moderator has paused your posting here ${formatUntil(block.until, now)}.${why} You can still read every message, and your draft is kept.`;
  }
  if (block.reason === 'locked') return 'A moderator has locked this room for now, so only moderators can post. You can still read every message, and your draft is kept.';
  return `You are listening only here ${formatUntil(block.until, now)}. You will still see every message.`;
}
