// Where the conversation's landmarks go: a separator at the start of each day
// (the reader's own calendar day, in their timezone and language) and the
// "new since you were here" line before the first message someone else wrote
// after my read marker. Pure.

/** The reader's calendar day of an instant (ISO 8601 or epoch ms), as "YYYY-MM-DD"; null if unreadable. */
export function dayKey(ts) {
  const d = new Date(ts);
  if (ts === null || ts === undefined || ts === '' || Number.isNaN(d.getTime())) return null;
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** Whole calendar days from `now` to `d` in local time (-1: yesterday), daylight saving included. */
function daysFrom(now, d) {
  return Math.round((startOfDay(d) - startOfDay(now)) / 86400000);
}

/**
 * The separator's words: "Today", "Yesterday" (in the reader's language),
 * otherwise the date with its weekday ("Monday 3 March"; the year when it is
 * not this year). `locale` undefined: the browser's.
 */
export function dayLabel(ts, now = new Date(), locale = undefined) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  const days = daysFrom(now, d);
  if (days === 0 || days === -1) {
    const word = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(days, 'day');
    return word.charAt(0).toLocaleUpperCase(locale) + word.slice(1);
  }
  const opts = { weekday: 'long', day: 'numeric', month: 'long' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return d.toLocaleDateString(locale, opts);
}

/**
 * Which of these events (ascending by seq, as shown) start a day: the first
 * one shown, and each one on another day than the one before it. Events
 * without a readable time belong to the day before them.
 * @param {{seq: number, ts: any}[]} events
 * @returns {Map<number, string>} seq -> day key
 */
export function dayStarts(events) {
  const starts = new Map();
  let previous = null;
  for (const ev of events) {
    const key = dayKey(ev.ts);
    if (key === null || key === previous) continue;
    starts.set(ev.seq, key);
    previous = key;
  }
  return starts;
}

/**
 * The first message by someone else after my read marker (ascending events):
 * the "new since you were here" line goes before it. null when there is none,
 * or when I never read the room (then everything is new and a line says nothing).
 */
export function firstUnreadSeq(events, lastReadSeq, meId) {
  if (!(lastReadSeq > 0)) return null;
  for (const ev of events) {
    if (ev.seq <= lastReadSeq || ev.type !== 'message') continue;
    if (ev.author && meId !== null && meId !== undefined && String(ev.author.id) === String(meId)) continue;
    return ev.seq;
  }
  return null;
}
