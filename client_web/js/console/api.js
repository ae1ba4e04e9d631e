// The moderation endpoints the console calls (docs/protocol.md), through the
// chat's fetch wrapper (same cookie session and CSRF token). A reason is sent
// only when one was written.

import { request } from '../api.js';

const id = (v) => encodeURIComponent(String(v));

function withReason(body, reason) {
  const r = typeof reason === 'string' ? reason.trim() : '';
  return r ? { ...body, reason: r } : body;
}

export const modApi = {
  queue: (status = 'open') => request('GET', `/api/queue?status=${id(status)}`),
  ack: (item) => request('POST', `/api/queue/${id(item)}/ack`, {}),
  resolve: (item, outcome, reason) => request('POST', `/api/queue/${id(item)}/resolve`, withReason({ outcome }, reason)),
  removeMessage: (room, seq, reason) => request('DELETE', `/api/rooms/${id(room)}/messages/${id(seq)}`, withReason({}, reason)),
  mute: (room, user, minutes, reason) => request('POST', `/api/rooms/${id(room)}/mutes`, withReason({ user, minutes }, reason)),
  unmute: (room, user, reason) => request('DELETE', `/api/rooms/${id(room)}/mutes/${id(user)}`, withReason({}, reason)),
  removeMember: (room, user, reason) => request('DELETE', `/api/rooms/${id(room)}/members/${id(user)}`, withReason({}, reason)),
  ban: (program, user, reason) => request('POST', `/api/programs/${id(program)}/bans`, withReason({ user }, reason)),
  unban: (program, user, reason) => request('DELETE', `/api/programs/${id(program)}/bans/${id(user)}`, withReason({}, reason)),
  warn: (program, user, reason, room) =>
    request('POST', `/api/programs/${id(program)}/warnings`, withReason(room ? { user, room } : { user }, reason)),
  roomSettings: (room, changes, reason) => request('PATCH', `/api/rooms/${id(room)}`, withReason(changes, reason)),
  approveHeld: (room, held) => request('POST', `/api/rooms/${id(room)}/held/${id(held)}/approve`, {}),
  rejectHeld: (room, held, reason) => request('POST', `/api/rooms/${id(room)}/held/${id(held)}/reject`, withReason({}, reason)),
  /** Everything moderators know of a person in a program: warnings, mutes, queue items, audit entries, notes. */
  person: (program, user) => request('GET', `/api/programs/${id(program)}/people/${id(user)}/moderation`),
  people: (program) => request('GET', `/api/programs/${id(program)}/people`),
  addNote: (program, user, body) => request('POST', `/api/programs/${id(program)}/people/${id(user)}/notes`, { body }),
  programs: () => request('GET', '/api/programs'),
  /** A program with its cohorts and rooms (managers). */
  program: (program) => request('GET', `/api/programs/${id(program)}`),
  /** Change a program's options (managers): any of alumni_post_in_cohort, hold_first_posts, retention_days (null keeps). */
  programOptions: (program, changes) => request('PATCH', `/api/programs/${id(program)}`, changes),
  audit: (query) => request('GET', `/api/audit${query}`),
  /** The program's record of a person for a named recipient: a disclosure, accounted and audited. */
  exportPerson: (program, user, recipient, purpose) =>
    request('POST', `/api/programs/${id(program)}/people/${id(user)}/export`, { recipient, purpose }),
  /** The person's accounting of disclosures (admins and the program's staff). */
  disclosures: (program, user) => request('GET', `/api/programs/${id(program)}/people/${id(user)}/disclosures`),
  /** Account for a disclosure made outside the service (a legal hold); nothing is sent. */
  recordLegalHold: (program, user, recipient, purpose, scope) =>
    request('POST', `/api/programs/${id(program)}/people/${id(user)}/disclosures`, { kind: 'legal_hold', recipient, purpose, scope }),
};
