// How a room's `room_state` reads: is someone watching it now, and, when not,
// a calm notice with the crisis resources the frame carries. `monitored` is
// true, false (outside its hours, nobody on duty) or null (the room makes no
// promise); only true may read as watched. Pure.

import { listNames } from './format.js';
import { durationText } from './slow_mode.js';

function dutyNames(names) {
  const clean = (Array.isArray(names) ? names : []).filter((n) => typeof n === 'string' && n.trim()).map((n) => n.trim());
  if (clean.length > 3) return `${clean.slice(0, 2).join(', ')} and ${clean.length - 2} others are on duty`;
  if (clean.length) return `${listNames(clean)} ${clean.length === 1 ? 'is' : 'are'} on duty`;
  return '';
}

/** The short line under the room's title: {watched, text}, or null before the state is known. */
export function watchLine(state) {
  if (!state) return null;
  if (state.monitored === true) {
    const duty = dutyNames(state.on_duty);
    return { watched: true, text: duty ? `Monitored now · ${duty}` : 'Monitored now' };
  }
  return { watched: false, text: state.monitored === false ? 'Not monitored right now' : 'Not monitored' };
}

/** The notice for a room nobody watches now, or null while it is watched. */
export function unwatchedNotice(state) {
  if (!state || state.monitored === true) return null;
  const resources = (Array.isArray(state.resources) ? state.resources : []).filter((r) => r && typeof r === 'object');
  return {
    headline: state.monitored === false ? 'No moderator is on duty right now' : 'No moderator is watching this room',
    intro: 'Your messages still reach everyone here. If you need support right now, you can reach:',
    resources,
  };
}

/** The hold line: members' messages wait for review (a moderator's never do). */
export function holdText(state, role) {
  if (!state || state.hold !== true) return '';
  if (role === 'moderator') return 'Members’ messages here are held for review right now.';
  return 'Messages here are held for a moderator’s review right now. Yours will show as waiting until then.';
}

/** What to tell a screen reader when the open room's state changes ('' for no change). */
export function changeAnnouncement(before, after, roomName) {
  if (!before || !after) return '';
  const said = [];
  const was = before.monitored === true;
  const is = after.monitored === true;
  if (!was && is) said.push(`A moderator is watching ${roomName} now.`);
  if (was && !is) said.push(`No moderator is watching ${roomName} right now. Help is listed at the top of the room.`);
  if (before.hold !== true && after.hold === true) said.push('Messages are held for review for now.');
  if (before.hold === true && after.hold !== true) said.push('Messages are no longer held for review.');
  if (before.locked !== true && after.locked === true) said.push(`A moderator has locked ${roomName} for now: only moderators can post.`);
  if (before.locked === true && after.locked !== true) said.push(`${roomName} is open for posting again.`);
  const slowBefore = Number(before.slow_seconds) || 0;
  const slowAfter = Number(after.slow_seconds) || 0;
  if (slowAfter > 0 && slowAfter !== slowBefore) said.push(`Slow mode is on: one message every ${durationText(slowAfter)} per person.`);
  if (slowBefore > 0 && slowAfter === 0) said.push('Slow mode is off.');
  return said.join(' ');
}
