// A program's options as the console edits them (PATCH /api/programs/{id},
// docs/protocol.md "Programs"): which programs I manage, what the form's
// fields ask the server to change, and what a retention period does. Pure.

export const HOLD_MAX = 20;
export const RETENTION_MAX_DAYS = 3650; // the server's bound: longer is "keep", said with an empty field

/** The programs I may change: every one for an admin, else those I am active staff of. */
export function managedPrograms(programs, me) {
  const list = Array.isArray(programs) ? programs : [];
  if (me && me.role === 'admin') return list;
  return list.filter((p) => p && p.enrollment && p.enrollment.role === 'staff' && p.enrollment.status === 'active');
}

function wholeNumber(raw, low, high) {
  const text = String(raw ?? '').trim();
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const value = Number(text);
  return value >= low && value <= high ? value : null;
}

/**
 * What the form asks to change against the program as the server last said it.
 * values: {alumni: bool, hold: string, retention: string ('' keeps messages)}
 * -> {changes: {...} (only what differs), error: {field, text}|null, erases: bool}
 * `erases`: the change starts or shortens a retention period, so text will be erased.
 */
export function optionChanges(program, values) {
  const changes = {};
  if (Boolean(values.alumni) !== Boolean(program.alumni_post_in_cohort)) changes.alumni_post_in_cohort = Boolean(values.alumni);
  const hold = wholeNumber(values.hold, 0, HOLD_MAX);
  if (hold === null) return { changes, error: { field: 'hold', text: `Give a number of posts from 0 to ${HOLD_MAX}.` }, erases: false };
  if (hold !== program.hold_first_posts) changes.hold_first_posts = hold;
  const keep = String(values.retention ?? '').trim() === '';
  const days = keep ? null : wholeNumber(values.retention, 1, RETENTION_MAX_DAYS);
  if (!keep && days === null) {
    return { changes, error: { field: 'retention', text: `Give a number of days from 1 to ${RETENTION_MAX_DAYS}, or leave it empty to keep messages.` }, erases: false };
  }
  const before = Number.isInteger(program.retention_days) ? program.retention_days : null;
  if (days !== before) changes.retention_days = days;
  return { changes, error: null, erases: days !== null && (before === null || days < before) };
}

const daySpan = (days) => (days === 1 ? '1 day' : `${days} days`);

/** What the program's retention period does, in a sentence for the form. */
export function retentionWords(days) {
  if (!Number.isInteger(days)) return 'Messages are kept until a moderator removes them or their writer deletes their account.';
  return `The text of messages older than ${daySpan(days)} is erased for everyone in this program’s rooms at the next retention run (every hour); what stays is who wrote each message and when.`;
}

/** Asked before a save that starts or shortens a retention period. */
export function erasingWarning(days) {
  return `This erases the text of every message older than ${daySpan(days)} in this program’s rooms, for everyone, and it cannot be brought back. Select “Save and erase” to go ahead.`;
}
