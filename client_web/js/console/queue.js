// The moderation queue as the console holds it: items by id, filled from
// GET /api/queue and kept current by the `alert` and `queue` frames (each
// carries the whole item as it is now). Pure: no DOM, no network.
//
// Order on screen: alerts first (a crisis or a concern nobody has
// acknowledged; overdue ones first, then the longest waiting), then reports,
// acknowledged crisis items and concerns, held messages; newest first within each.

const RANK = { crisis: 1, report: 2, concern: 3, held: 4 };

/** Is this item an alert still waiting for a moderator? */
export function isAlert(item) {
  return (item.kind === 'crisis' || item.kind === 'concern') && item.status === 'open' && !item.acknowledged;
}

export function isOpen(item) {
  return item.status === 'open';
}

function rank(item) {
  return isAlert(item) ? 0 : RANK[item.kind] ?? 5;
}

function time(item) {
  const t = Date.parse(item.created_at);
  return Number.isNaN(t) ? 0 : t;
}

function compare(a, b) {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) {
    if (!!a.overdue !== !!b.overdue) return a.overdue ? -1 : 1;
    return time(a) - time(b) || Number(a.id) - Number(b.id);
  }
  return time(b) - time(a) || Number(b.id) - Number(a.id);
}

/** A sorted copy, in the console's order. */
export function sortQueue(items) {
  return [...items].sort(compare);
}

export function createQueue() {
  return { items: new Map(), announced: new Set() };
}

function valid(item) {
  return !!item && typeof item === 'object' && (typeof item.id === 'number' || typeof item.id === 'string');
}

/** Replace everything with a fresh listing (GET /api/queue). */
export function loadQueue(queue, items) {
  queue.items.clear();
  for (const item of Array.isArray(items) ? items : []) if (valid(item)) queue.items.set(String(item.id), item);
}

/**
 * One `alert` or `queue` frame. Returns {item, alert}: `alert` says a moderator
 * should be told now: the first `alert` frame for an item, and again the first
 * once it is overdue (the server sends `queue` before `alert`, and the same
 * alert may come from several processes); null item when the frame carries none.
 */
export function applyQueueFrame(queue, frame) {
  const item = frame && frame.item;
  if (!valid(item)) return { item: null, alert: false };
  const key = String(item.id);
  queue.items.set(key, item);
  const told = `${key}${item.overdue ? ':overdue' : ''}`;
  const alert = frame.type === 'alert' && isAlert(item) && !queue.announced.has(told);
  if (alert) queue.announced.add(told);
  return { item, alert };
}

/** The open items in screen order. */
export function openItems(queue) {
  return sortQueue([...queue.items.values()].filter(isOpen));
}

/** How many alerts wait (for the navigation's badge). */
export function alertCount(queue) {
  let n = 0;
  for (const item of queue.items.values()) if (isAlert(item)) n += 1;
  return n;
}
