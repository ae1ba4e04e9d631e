// Human wording: friendly error text, times, presence and typing lines.
// Pure functions (no DOM).

const ERROR_TEXT = {
  rate_limited: 'You are sending messages quickly. Please wait a moment, then try again.',
  too_large: 'This message is too long to send. You could split it into smaller parts.',
  muted: 'You are muted in this room for now, so the message was not sent.',
  locked: 'This room is locked at the moment, so the message was not sent.',
  not_member: 'You are not a member of this room any more.',
  forbidden: 'You do not have permission to do that.',
  unavailable: 'We could not save this just now. Nothing was lost; please try again.',
  internal: 'Something went wrong on our side. Please try again.',
  invalid: 'This message could not be sent.',
  unauthorized: 'Your session has ended. Please sign in again.',
  network: 'We cannot reach Alongside right now. Check your connection and try again.',
};

/** Friendly text for an error code (`retryAfter` in seconds, optional). */
export function friendlyError(code, retryAfter) {
  if (code === 'rate_limited' && Number(retryAfter) > 0) {
    const s = Math.ceil(Number(retryAfter));
    return `You are sending messages quickly. Please wait ${s} second${s === 1 ? '' : 's'}, then try again.`;
  }
  return ERROR_TEXT[code] || 'Something went wrong. Please try again.';
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Short local time for a message: "14:05" today, "3 Mar, 14:05" otherwise. */
export function formatTime(ts, now = new Date()) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (sameDay(d, now)) return time;
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(d, yesterday)) return `Yesterday, ${time}`;
  const opts = { day: 'numeric', month: 'short' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return `${d.toLocaleDateString(undefined, opts)}, ${time}`;
}

/** Full date and time, for a tooltip / the <time> title. */
export function formatFullTime(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
}

export function displayName(peer) {
  if (!peer || typeof peer !== 'object') return 'Deleted user';
  const n = typeof peer.display_name === 'string' ? peer.display_name.trim() : '';
  return n || 'Someone';
}

function listNames(names) {
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

const KIND_LABEL = {
  group: 'Group',
  cohort: 'Cohort',
  topic: 'Topic',
  alumni: 'Alumni',
  direct: 'Private',
};

export function kindLabel(kind) {
  return KIND_LABEL[kind] || (typeof kind === 'string' ? kind : '');
}

/** Shorten text for a screen-reader announcement. */
export function clip(text, max = 160) {
  const t = String(text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
