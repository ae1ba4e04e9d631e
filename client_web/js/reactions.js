// Supportive reactions on a message. Each `reaction` event says that one
// person turned one reaction on or off on one message; the latest event (by
// seq) for that person, reaction and message wins, so events folded in any
// order (a history page older than the live events already held) give the
// same counts. Pure.

import { isSeq } from './room.js';

/** The reactions people can give, in the order they are shown. */
export const REACTIONS = [
  { key: 'heart', emoji: '❤️', name: 'Heart' },
  { key: 'clap', emoji: '👏', name: 'Clap' },
  { key: 'pray', emoji: '🙏', name: 'Pray' },
  { key: 'hug', emoji: '🤗', name: 'Hug' },
  { key: 'strong', emoji: '💪', name: 'Strong' },
];

const KNOWN = new Set(REACTIONS.map((r) => r.key));

export function isReactionEvent(ev) {
  return (
    !!ev &&
    ev.type === 'reaction' &&
    isSeq(ev.seq) &&
    isSeq(ev.target) &&
    KNOWN.has(ev.emoji) &&
    typeof ev.on === 'boolean'
  );
}

/** An empty fold: target seq -> Map("emoji person") -> {emoji, userId, name, on, seq}. */
export function newReactions() {
  return new Map();
}

/**
 * Fold one `reaction` event in. Returns the target's seq when its counts may
 * have changed, else null (not a reaction, or older than what we know).
 */
export function foldReaction(state, ev) {
  if (!isReactionEvent(ev)) return null;
  const user = ev.user && typeof ev.user === 'object' ? ev.user : null;
  const userId = user && user.id !== undefined && user.id !== null ? String(user.id) : `seq:${ev.seq}`;
  let perTarget = state.get(ev.target);
  if (!perTarget) {
    perTarget = new Map();
    state.set(ev.target, perTarget);
  }
  const key = `${ev.emoji} ${userId}`;
  const known = perTarget.get(key);
  if (known && known.seq >= ev.seq) return null;
  const name = user && typeof user.display_name === 'string' ? user.display_name : '';
  perTarget.set(key, { emoji: ev.emoji, userId, name, on: ev.on, seq: ev.seq });
  return ev.target;
}

/**
 * What a message shows: each reaction someone gives now, in REACTIONS order.
 * @returns {{key: string, emoji: string, name: string, count: number, mine: boolean, people: string[]}[]}
 */
export function reactionSummary(state, target, meId) {
  const perTarget = state.get(target);
  if (!perTarget) return [];
  const me = meId === null || meId === undefined ? null : String(meId);
  const out = [];
  for (const r of REACTIONS) {
    let count = 0;
    let mine = false;
    const people = [];
    for (const entry of perTarget.values()) {
      if (entry.emoji !== r.key || !entry.on) continue;
      count += 1;
      if (entry.userId === me) mine = true;
      else if (entry.name) people.push(entry.name);
    }
    if (count) out.push({ key: r.key, emoji: r.emoji, name: r.name, count, mine, people });
  }
  return out;
}

/** Do I give this reaction to this message now? */
export function isMine(state, target, emoji, meId) {
  const perTarget = state.get(target);
  const entry = perTarget && meId !== null && meId !== undefined ? perTarget.get(`${emoji} ${String(meId)}`) : null;
  return !!entry && entry.on;
}
