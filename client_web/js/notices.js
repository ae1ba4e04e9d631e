// What moderation tells one person privately, in words: a warning, being
// muted or unmuted in a room, a held message approved or not, and the
// support offered after a message that sounded like a crisis. Calm and
// plain: it says what happened, for how long, and what still works; it never
// scolds. Pure.

import { formatUntil } from './format.js';

function reasonSentence(reason, lead = 'The reason given') {
  const r = typeof reason === 'string' ? reason.trim() : '';
  return r ? ` ${lead}: “${r}”.` : '';
}

/**
 * A `warning` frame ({program, reason, expires_at, muted_until}) as a notice:
 * {title, text}.
 */
export function warningNotice(f, now = new Date()) {
  const until = formatUntil(f.expires_at, now);
  let text = `A moderator has sent you a warning.${reasonSentence(f.reason)}`;
  if (until) text += ` It stays on your record ${until}, then it is gone.`;
  const muted = formatUntil(f.muted_until, now);
  if (muted) text += ` You cannot post in your program’s rooms ${muted}; you can still read everything.`;
  text += ' If something is hard right now, “Get help now” is always at the top.';
  return { title: 'A message from your moderators', text };
}

/** A `muted` frame: what to announce. */
export function mutedAnnouncement(roomName, until, reason, now = new Date()) {
  const when = formatUntil(until, now);
  return `A moderator has paused your posting in ${roomName}${when ? ` ${when}` : ''}.${reasonSentence(reason)} You can still read every message.`;
}

export function unmutedAnnouncement(roomName) {
  return `You can post in ${roomName} again.`;
}

/** The note on my held message when a moderator did not approve it. */
export function rejectedText(reason) {
  return `A moderator did not approve this message, so nobody else saw it.${reasonSentence(reason)} Your words are still here: you can edit them and try again, or discard them.`;
}

export const APPROVED_ANNOUNCEMENT = 'A moderator approved your message. Everyone in the room can see it now.';

/** The intro of the private support card after a message that sounded like a crisis. */
export const CRISIS_TITLE = 'You don’t have to carry this alone';
export const CRISIS_INTRO =
  'Only you can see this. It sounded like things might be really hard right now. Your message was posted as usual, and a moderator may check in with you. If you want to talk to someone now, these people are there for you:';
export const CRISIS_INTRO_HELD =
  'Only you can see this. It sounded like things might be really hard right now. If you want to talk to someone now, these people are there for you:';
export const CRISIS_ANNOUNCEMENT = 'Only you can see this: some people you can reach right now are listed under your message.';
/** The same, at the top of the page, when the message is not on this screen. */
export const CRISIS_INTRO_AWAY =
  'Only you can see this. A message of yours sounded like things might be really hard right now. If you want to talk to someone now, these people are there for you:';
export const CRISIS_ANNOUNCEMENT_AWAY = 'Only you can see this: some people you can reach right now are listed at the top of the page.';

/** Resources as a `crisis_resources` frame carries them: only well-formed ones. */
export function cleanResources(list) {
  return (Array.isArray(list) ? list : []).filter((r) => r && typeof r === 'object' && typeof r.name === 'string' && r.name.trim());
}
