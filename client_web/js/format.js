// Human wording: friendly error text, times, presence and typing lines.
// Pure functions (no DOM).

const ERROR_TEXT = {
  rate_limited: 'You are sending messages quickly. Please wait a moment, then try again.',
  too_large: 'This message is too long to send. You could split it into smaller parts.',
  muted: 'A moderator has paused your posting here for now, so this was not sent. It is kept here for you.',
  locked: 'A moderator has locked this room for now, so this was not sent. It is kept here: retry when the room opens again.',
  slow_mode: 'Slow mode is on here, so this was not sent yet. We will send it for you shortly.',
  rejected: 'A moderator did not approve this message, so nobody else saw it.',
  not_member: 'You are not a member of this room any more.',
  forbidden: 'You do not have permission to do that.',
  unavailable: 'We could not save this just now. Nothing was lost; please try again.',
  internal: 'Something went wrong on our side. Please try again.',
  invalid: 'This message could not be sent.',
  read_only: 'This room is read-only for you now, so the message was not sent.',
  reply_gone: 'The message you replied to is no longer there. Retry sends yours without the quote.',
  observing: 'You chose to listen only in this room for now, so the message was not sent.',
  unauthorized: 'Your session has ended. Please sign in again.',
  network: 'We cannot reach Alongside right now. Check your connection and try again.',
};

/**
 * Friendly text for an error code. `retryAfter` in seconds (rate_limited,
 * slow_mode) and `until` (ISO 8601, observing, muted) are optional.
 */
export function friendlyError(code, retryAfter, until) {
  if (code === 'rate_limited' && Number(retryAfter) > 0) {
    const s = Math.ceil(Number(retryAfter));
    return `You are sending messages quickly. Please wait ${s} second${s === 1 ? '' : 's'}, then try again.`;
  }
  if (code === 'slow_mode' && Number(retryAfter) > 0) {
    const s = Math.ceil(Number(retryAfter));
    return `Slow mode is on here, so this was not sent yet. We will send it for you in ${s} second${s === 1 ? '' : 's'}.`;
  }
  if (code === 'muted' && formatUntil(until)) {
    return `A moderator has paused your posting here ${formatUntil(until)}, so this was not sent. It is kept here for you.`;
  }
  const when = code === 'observing' ? formatUntil(until) : '';
  if (when) return `You chose to listen only in this room ${when}, so the message was not sent.`;
  return ERROR_TEXT[code] || 'Something went wrong. Please try again.';
}

const formatters = new Map();

/**
 * One Intl.DateTimeFormat per set of options, in the browser's language and
 * timezone (making one is slow, and a long room formats thousands of times).
 */
function dateFormat(options) {
  const key = JSON.stringify(options);
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(undefined, options);
    formatters.set(key, format);
  }
  return format;
}

const HOUR_MINUTE = { hour: '2-digit', minute: '2-digit' };

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Short local time for a message, "14:05" (its day is said by the day separator above it). */
export function formatTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return dateFormat(HOUR_MINUTE).format(d);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When something ends, in local time: "until 15:30", "until tomorrow at 09:00",
 * "until Friday at 09:00" (within a week), "until 12 May at 09:00". '' if unreadable.
 */
export function formatUntil(ts, now = new Date()) {
  const d = new Date(ts ?? NaN);
  if (Number.isNaN(d.getTime())) return '';
  const time = dateFormat(HOUR_MINUTE).format(d);
  if (sameDay(d, now)) return `until ${time}`;
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  if (sameDay(d, tomorrow)) return `until tomorrow at ${time}`;
  if (d > now && d - now < 6 * DAY_MS) return `until ${dateFormat({ weekday: 'long' }).format(d)} at ${time}`;
  const opts = { day: 'numeric', month: 'long' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return `until ${dateFormat(opts).format(d)} at ${time}`;
}

/** Full date and time, for a tooltip / the <time> title. */
export function formatFullTime(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return dateFormat({ dateStyle: 'full', timeStyle: 'short' }).format(d);
}

export function displayName(peer) {
  if (!peer || typeof peer !== 'object') return 'Deleted user';
  const n = typeof peer.display_name === 'string' ? peer.display_name.trim() : '';
  return n || 'Someone';
}

/** "Ana", "Ana and Ben", "Ana, Ben and Cy". */
export function listNames(names) {
  if (names.length === 1) return names[0];
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "Ana is typing…", "Ana and Ben are typing…", "Several people are typing…" */
export function typingText(names) {
  if (!names.length) return '';
  if (names.length > 3) return 'Several people are typing…';
  return `${listNames(names)} ${names.length === 1 ? 'is' : 'are'} typing…`;
}

/** "Online now: you, Ana and Ben" (peers: [{id, display_name}]). */
export function presenceText(peers, meId) {
  if (!Array.isArray(peers) || !peers.length) return '';
  const seen = new Set();
  const others = [];
  let includesMe = false;
  for (const p of peers) {
    if (!p || typeof p !== 'object') continue;
    const id = String(p.id);
    if (seen.has(id)) continue;
    seen.add(id);
    if (meId !== undefined && meId !== null && id === String(meId)) includesMe = true;
    else others.push(displayName(p));
  }
  const names = includesMe ? ['you', ...others] : others;
  if (!names.length) return '';
  if (names.length > 8) return `Online now: ${names.slice(0, 7).join(', ')} and ${names.length - 7} more`;
  return `Online now: ${listNames(names)}`;
}

/** Shorten text for a screen-reader announcement. */
export function clip(text, max = 160) {
  const t = String(text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** The start of a message as a reply quotes it: its first 140 characters, as the server takes them. */
export function excerpt(text, max = 140) {
  return Array.from(typeof text === 'string' ? text : '').slice(0, max).join('');
}
