// Slow mode: in a room with `slow_seconds` (room_state) each person may post
// one message per that many seconds; moderators are never slowed. The page
// keeps when I may send next (room.nextSendAt, epoch ms) from my own sends and
// from a `slow_mode` refusal's retry_after (another device of mine may have
// posted), so the composer can say how long is left instead of sending
// something the server would refuse. Pure.

/** The room's slow-mode interval for me, in seconds (0: none). */
export function slowSeconds(room) {
  if (!room || room.role === 'moderator' || !room.state) return 0;
  const n = Number(room.state.slow_seconds);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** I just sent a message in the room (at `now`). */
export function noteSent(room, now = Date.now()) {
  const s = slowSeconds(room);
  if (s) room.nextSendAt = now + s * 1000;
}

/** The server refused a send with `slow_mode`: wait `retryAfter` seconds from `now`. */
export function noteRefused(room, retryAfter, now = Date.now()) {
  const s = Number(retryAfter);
  room.nextSendAt = now + (Number.isFinite(s) && s > 0 ? s : slowSeconds(room) || 1) * 1000;
}

/** Whole seconds left before I may send again (0: now). */
export function waitSeconds(room, now = Date.now()) {
  if (!room || room.role === 'moderator') return 0;
  const at = typeof room.nextSendAt === 'number' ? room.nextSendAt : 0;
  return at > now ? Math.ceil((at - now) / 1000) : 0;
}

/** "45 seconds", "1 minute", "2 minutes 30 seconds", "1 hour". */
export function durationText(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const unit = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (s < 60) return unit(s, 'second');
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const rest = s % 60;
    return rest ? `${unit(m, 'minute')} ${unit(rest, 'second')}` : unit(m, 'minute');
  }
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return m ? `${unit(h, 'hour')} ${unit(m, 'minute')}` : unit(h, 'hour');
}

/** The line under the composer: '' when slow mode is off and nothing is left to wait. */
export function slowLine(room, now = Date.now()) {
  const wait = waitSeconds(room, now);
  if (wait > 0) return `Slow mode: you can send your next message in ${durationText(wait)}. Keep writing; nothing is lost.`;
  const s = slowSeconds(room);
  return s ? `Slow mode is on: one message every ${durationText(s)} per person.` : '';
}
