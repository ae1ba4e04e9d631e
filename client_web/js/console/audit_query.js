// The audit filter's query string (GET /api/audit): only the fields filled in;
// times from <input type="datetime-local"> (local time) sent as UTC ISO 8601.
// Pure.

const FIELDS = ['program', 'actor', 'target_user', 'room', 'action'];

/** A local "YYYY-MM-DDTHH:MM" as ISO 8601 UTC, or null when empty or unreadable. */
export function localToIso(value) {
  if (typeof value !== 'string' || !value.trim()) return null;
  const t = new Date(value.trim());
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

/**
 * fields: {program, actor, target_user, room, action, since, until} as typed;
 * before: paging (the oldest entry's id shown so far). Returns "?a=b&…" or ''.
 */
export function auditQuery(fields, { before = null, limit = 50 } = {}) {
  const q = new URLSearchParams();
  for (const name of FIELDS) {
    const v = fields[name];
    const s = v === undefined || v === null ? '' : String(v).trim();
    if (s) q.set(name, s);
  }
  const since = localToIso(fields.since);
  const until = localToIso(fields.until);
  if (since) q.set('since', since);
  if (until) q.set('until', until);
  if (before !== null && before !== undefined) q.set('before', String(before));
  q.set('limit', String(limit));
  return `?${q.toString()}`;
}
