// Whether I may post in a room now, and how to say why not. It mirrors the
// server's rule (server/rules/monitoring.py posting_refusal): a `reader` may
// not post; someone observing (listen only) may not until it ends. The server
// decides every send anyway; this only keeps the page honest about it. Pure.

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

/** null when I may post; otherwise {reason: 'read_only'} or {reason: 'observing', until}. */
export function postingBlock(room, now = Date.now()) {
  if (room.role === 'reader') return { reason: 'read_only' };
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
  return `You are listening only here ${formatUntil(block.until, now)}. You will still see every message.`;
}
