// The console's wording: people as staff see them, queue items, durations,
// a room's settings, audit entries. Pure functions (no DOM).

import { formatFullTime, formatTime, formatUntil } from '../format.js';

export const KIND_LABEL = { crisis: 'Crisis alert', concern: 'Concern raised', report: 'Report', held: 'Held message' };

/** Mute lengths offered, in minutes. */
export const MUTE_CHOICES = [10, 60, 24 * 60, 7 * 24 * 60];
/** Slow-mode intervals offered, in seconds (0: off). */
export const SLOW_CHOICES = [0, 10, 30, 60, 300];

function text(v) {
  return typeof v === 'string' ? v.trim() : '';
}

/** "Pat" — the name peers see ("Someone" when blank). */
export function shownName(person) {
  if (!person || typeof person !== 'object') return 'Deleted user';
  return text(person.display_name) || text(person.username) || 'Someone';
}

/** Staff see who someone is: "Pat (Patricia Doe, @pat)"; what is unknown is left out. */
export function staffName(person) {
  const name = shownName(person);
  if (!person || typeof person !== 'object') return name;
  const extra = [text(person.real_name), text(person.username) && `@${text(person.username)}`].filter(Boolean);
  return extra.length ? `${name} (${extra.join(', ')})` : name;
}

/** "10 minutes", "1 hour", "2 days", "1 week". */
export function durationText(minutes) {
  const m = Math.max(0, Math.round(Number(minutes) || 0));
  const units = [
    [7 * 24 * 60, 'week'],
    [24 * 60, 'day'],
    [60, 'hour'],
  ];
  for (const [size, unit] of units) {
    if (m >= size && m % size === 0) {
      const n = m / size;
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${m} minute${m === 1 ? '' : 's'}`;
}

/** "Off", "10 seconds", "1 minute", "5 minutes". */
export function slowText(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (!s) return 'Off';
  if (s % 60 === 0) return durationText(s / 60);
  return `${s} second${s === 1 ? '' : 's'}`;
}

/**
 * A room's standing in one line, from its `room_state` frame (and its detail):
 * "Locked · Slow mode: 30 seconds · Holding messages for review · Not monitored".
 */
export function roomStateText(state) {
  if (!state || typeof state !== 'object') return '';
  const parts = [];
  if (state.locked) parts.push('Locked');
  if (Number(state.slow_seconds) > 0) parts.push(`Slow mode: ${slowText(state.slow_seconds)}`);
  if (state.hold) parts.push('Holding messages for review');
  if (state.monitored === true) {
    const duty = Array.isArray(state.on_duty) ? state.on_duty.filter((n) => typeof n === 'string') : [];
    parts.push(duty.length ? `Monitored · on duty: ${duty.join(', ')}` : 'Monitored');
  } else if (state.monitored === false) {
    parts.push('Not monitored now');
  } else if ('monitored' in state) {
    parts.push('No monitored hours');
  }
  return parts.join(' · ');
}

/** "Crisis alert · Spring", with "overdue" when it escalated. */
export function itemHeading(item) {
  const kind = KIND_LABEL[item.kind] || 'Queue item';
  const room = text(item.room_name);
  const head = room ? `${kind} · ${room}` : kind;
  return item.overdue && item.status === 'open' && !item.acknowledged ? `${head} · overdue` : head;
}

/** Who raised it and why: "Ben: spam; Cy" (concern raisers are not shown to peers, staff may see them). */
export function raisedByText(item) {
  const raisers = Array.isArray(item.raised_by) ? item.raised_by.filter((r) => r && typeof r === 'object') : [];
  if (!raisers.length) return '';
  return raisers.map((r) => (text(r.reason) ? `${shownName(r)}: ${text(r.reason)}` : shownName(r))).join('; ');
}

/** "Acknowledged by Kim at 14:05" or ''. */
export function acknowledgedText(item, names = () => null) {
  const ack = item.acknowledged;
  if (!ack || typeof ack !== 'object') return '';
  const by = (ack.by && typeof ack.by === 'object' ? shownName(ack.by) : names(ack.by)) || 'a moderator';
  const at = formatTime(ack.at);
  return at ? `Acknowledged by ${by} at ${at}` : `Acknowledged by ${by}`;
}

/** What a screen reader hears when an alert arrives. */
export function alertAnnouncement(item) {
  const kind = item.kind === 'concern' ? 'Concern raised' : 'Crisis alert';
  const room = text(item.room_name);
  const who = item.subject ? shownName(item.subject) : '';
  const over = item.overdue ? 'Overdue: ' : '';
  return `${over}${kind}${room ? ` in ${room}` : ''}${who ? ` about ${who}` : ''}.`;
}

/** "muted until 15:30" for a person's current mute ('' when none or past). */
export function mutedText(until, now = new Date()) {
  const t = Date.parse(until ?? '');
  if (Number.isNaN(t) || t <= now.getTime()) return '';
  return `muted ${formatUntil(until, now)}`;
}

/** An audit action as people read it ("message.remove" -> "Removed a message"); unknown ones as they are. */
const ACTIONS = {
  'message.remove': 'Removed a message',
  'member.mute': 'Muted',
  'member.unmute': 'Lifted a mute',
  'member.remove': 'Removed from a room',
  'person.ban': 'Banned from the program',
  'person.unban': 'Lifted a ban',
  'person.warn': 'Warned',
  'person.note': 'Wrote a note',
  'person.graduate': 'Graduated',
  'person.withdraw': 'Withdrew',
  'person.readmit': 'Readmitted',
  'person.counsellor': 'Assigned a counsellor',
  'room.lock': 'Locked a room',
  'room.unlock': 'Unlocked a room',
  'room.slow_mode': 'Changed slow mode',
  'room.hold_mode': 'Changed hold for review',
  'room.schedule': 'Changed monitored hours',
  'room.create': 'Created a room',
  'room.member_add': 'Added to a room',
  'room.member_role': 'Changed a room role',
  'queue.ack': 'Acknowledged an alert',
  'queue.resolve': 'Resolved a queue item',
  'queue.dismiss': 'Dismissed a queue item',
  'held.approve': 'Approved a held message',
  'held.reject': 'Rejected a held message',
  'duty.check_in': 'Checked in',
  'duty.check_out': 'Checked out',
  'direct.read': 'Read a direct room',
  'backchannel.create': 'Opened a staff back-channel',
  'program.create': 'Created a program',
  'program.options': 'Changed program settings',
  'cohort.create': 'Created a cohort',
  'cohort.delete': 'Deleted a cohort',
  'invite.create': 'Created an invite',
  'invite.revoke': 'Revoked an invite',
};

/**
 * What a ban's answer asks of the moderator next: the invite link the person joined
 * with was withdrawn (`invites_revoked`), so the rest of their group needs a new one.
 * '' when nothing was withdrawn (or the answer says nothing about it).
 */
export function banFollowUp(answer) {
  const ids = answer && typeof answer === 'object' ? answer.invites_revoked : null;
  if (!Array.isArray(ids) || ids.length === 0) return '';
  return ids.length === 1
    ? 'The invite link they joined with was withdrawn; give the rest of the group a new one.'
    : 'The invite links they joined with were withdrawn; give the rest of the group a new one.';
}

/** [action, words] for the audit filter's choice, by words. */
export function actionChoices() {
  return Object.entries(ACTIONS).sort((a, b) => a[1].localeCompare(b[1]));
}

export function actionText(action) {
  const a = text(action);
  return ACTIONS[a] || a || 'Something';
}

function nameOf(v, names) {
  if (v && typeof v === 'object') return staffName(v);
  if (v === null || v === undefined) return '';
  return names(v) || `#${v}`;
}

/**
 * One audit entry as a line: "14:05 · Kim (Kim Lee, @kim) · Removed a message · Pat · seq 12 · spam".
 * Entries may name people as objects or only by id (`names` looks ids up).
 */
export function auditLine(entry, names = () => null) {
  const actor = entry.actor === null || entry.actor === undefined ? 'System' : nameOf(entry.actor, names);
  const parts = [actor, actionText(entry.action)];
  const target = nameOf(entry.target_user, names);
  if (target) parts.push(target);
  const room = entry.room && typeof entry.room === 'object' ? text(entry.room.name) : text(entry.room_name);
  if (room) parts.push(`in ${room}`);
  if (text(entry.target)) parts.push(text(entry.target));
  if (text(entry.reason)) parts.push(`reason: ${text(entry.reason)}`);
  return parts.join(' · ');
}

export function fullTime(ts) {
  return formatFullTime(ts);
}
