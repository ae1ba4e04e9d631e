// What stands in for an erased message, and why it was erased. A message's text
// goes for one of three reasons (docs/protocol.md, "Tombstones"): a moderator
// removed it, its writer deleted their account, or the program's retention
// period passed. The reason comes with the stored copy (`removed`) or with the
// live `redacted` event (`reason`); a removal without one is a moderator's.

export const DELETED_NAME = 'deleted user';
const REASONS = new Set(['moderator', 'deleted', 'expired']);

/** A known reason, or 'moderator' (the only removal older servers knew). */
export function reasonOf(value) {
  return typeof value === 'string' && REASONS.has(value) ? value : 'moderator';
}

/** The line shown in place of an erased message's text. */
export function tombstoneText(why) {
  const reason = reasonOf(why);
  if (reason === 'deleted') return 'Message erased: its writer deleted their account';
  if (reason === 'expired') return 'Message erased after the program’s retention period';
  return 'Removed by a moderator';
}

/** The words a reply's quote shows when the message it answers was erased. */
export function quoteGoneText(why) {
  const reason = reasonOf(why);
  if (reason === 'deleted') return 'message erased';
  if (reason === 'expired') return 'message erased after the retention period';
  return 'removed by a moderator';
}

/**
 * What a screen reader hears when a message in the open room is erased, or
 * null: a removal or a deletion is news, old messages passing the program's
 * retention period (a sweep every hour) are not.
 */
export function erasedNews(why) {
  const reason = reasonOf(why);
  if (reason === 'deleted') return 'A message was erased: its writer deleted their account.';
  if (reason === 'expired') return null;
  return 'A message was removed by a moderator.';
}

/** The writer's name as shown: a deleted account is "deleted user" even in a copy loaded before. */
export function writerName(name, why) {
  return why === 'deleted' ? DELETED_NAME : name;
}
