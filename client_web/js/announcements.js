// What a screen reader hears when events arrive in the open room: others'
// messages (or how many, when several come at once), a removal, a reaction
// to one of my messages. Pure.

import { clip, displayName } from './format.js';
import { REACTIONS } from './reactions.js';
import { isRemoved } from './room.js';
import { erasedNews } from './tombstone.js';

const MANY = 3;

function isMe(peer, meId) {
  return !!peer && meId !== null && meId !== undefined && String(peer.id) === String(meId);
}

/** Others' messages among newly held events (shown, not removed), in order. */
export function messagesFromOthers(room, added, meId) {
  return added.filter((ev) => ev.type === 'message' && !isMe(ev.author, meId) && !isRemoved(room, ev));
}

/** @returns {string[]} announcements, in order */
export function arrivalAnnouncements(room, added, meId) {
  const said = [];
  const fromOthers = messagesFromOthers(room, added, meId);
  if (fromOthers.length > MANY) said.push(`${fromOthers.length} new messages in ${room.name}.`);
  else for (const ev of fromOthers) said.push(`${displayName(ev.author)}: ${clip(ev.body)}`);
  for (const news of new Set(added.filter((ev) => ev.type === 'redacted').map((ev) => erasedNews(ev.reason)))) if (news) said.push(news);
  for (const ev of added) {
    if (ev.type !== 'reaction' || !ev.on || isMe(ev.user, meId)) continue;
    const target = room.events.get(ev.target);
    const reaction = REACTIONS.find((r) => r.key === ev.emoji);
    if (target && reaction && isMe(target.author, meId)) said.push(`${displayName(ev.user)} reacted to your message: ${reaction.name}.`);
  }
  return said;
}
