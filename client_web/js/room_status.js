// The open room's standing: is anyone watching it (`room_state`), and may I
// post in it (my role, listen-only time, a moderator's mute, a lock, slow
// mode). Keeps each room's `state`, `role`, `observingUntil`, `mutedUntil`
// and `nextSendAt` current from frames, HTTP answers and refused sends, and
// shows them for the open room (WatchView, ComposerGate, ObserveControls).
// Changes to the open room are announced to screen readers.

import { api } from './api.js';
import { ComposerGate } from './composer_gate.js';
import { formatUntil } from './format.js';
import { ObserveControls } from './observe_controls.js';
import { mutedAnnouncement, unmutedAnnouncement } from './notices.js';
import { isMuted, isObserving, postingBlock, untilMs } from './posting.js';
import { roomKey } from './room.js';
import { noteRefused, waitSeconds } from './slow_mode.js';
import { changeAnnouncement } from './watch.js';
import { WatchView } from './watch_view.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

export class RoomStatus {
  /**
   * @param {object} dom  elements (see main.js)
   * @param {{room: (key: string) => object|undefined, openRoom: () => object|null,
   *          announce: (text: string) => void, focusComposer: () => void}} hooks
   */
  constructor(dom, hooks) {
    this.hooks = hooks;
    this.expiry = null;
    this.ticker = null; // the slow-mode countdown while it runs
    this.watch = new WatchView({
      line: dom.roomWatch,
      notice: dom.roomNotice,
      details: dom.unwatched,
      headline: dom.unwatchedHeadline,
      intro: dom.unwatchedIntro,
      resources: dom.unwatchedResources,
      fallback: dom.unwatchedFallback,
      hold: dom.roomHold,
    });
    this.controls = new ObserveControls(
      {
        button: dom.roomOptionsButton,
        panel: dom.roomOptions,
        title: dom.observeTitle,
        choices: dom.observeChoices,
        current: dom.observeCurrent,
        stop: dom.observeStop,
        close: dom.roomOptionsClose,
        error: dom.observeError,
      },
      { openRoom: hooks.openRoom, setObserving: (room, until) => this.setObserving(room, until), focusComposer: hooks.focusComposer },
    );
    this.gate = new ComposerGate(
      {
        composer: dom.composer,
        composerInput: dom.composerInput,
        closed: dom.composerClosed,
        closedText: dom.composerClosedText,
        closedAction: dom.composerClosedAction,
        closedError: dom.composerClosedError,
        slow: dom.composerSlow,
        list: dom.messageList,
      },
      { onStopObserving: (errorEl) => this.controls.stop(errorEl) },
    );
  }

  /** A room was opened: show its standing as far as we know it (the join brings the rest). */
  show(room) {
    this.controls.closePanel(false);
    this.render(room);
  }

  /** Whether I may post in the open room now. */
  mayPost() {
    const room = this.hooks.openRoom();
    return !!room && !postingBlock(room);
  }

  onRoomState(f) {
    const room = this.hooks.room(roomKey(f.room));
    if (!room) return;
    const before = room.state;
    room.state = f;
    if (!(Number(f.slow_seconds) > 0)) room.nextSendAt = 0;
    if (!this.isOpen(room)) return;
    if (!before || before.locked !== f.locked || before.slow_seconds !== f.slow_seconds) this.render(room);
    else this.watch.render(room);
    this.hooks.announce(changeAnnouncement(before, f, room.name));
  }

  /** `muted` / `unmuted` frames (a moderator's mute of me in a room). */
  onMuted(f) {
    const room = this.hooks.room(roomKey(f.room));
    if (room) this.setMuted(room, f.type === 'muted' ? untilMs(f.until) : null, f.type === 'muted' ? f.reason ?? null : null);
  }

  /** My mute in a room started (`until`, epoch ms) or was lifted (null). quiet: nothing announced (a listing). */
  setMuted(room, until, reason, { quiet = false } = {}) {
    const was = isMuted(room);
    room.mutedUntil = until;
    room.mutedReason = typeof reason === 'string' ? reason : null;
    const is = isMuted(room);
    if (!this.isOpen(room)) return;
    this.render(room);
    if (quiet) return;
    if (is) this.hooks.announce(mutedAnnouncement(room.name, until, room.mutedReason));
    else if (was) this.hooks.announce(unmutedAnnouncement(room.name));
  }

  onObserving(f) {
    const room = this.hooks.room(roomKey(f.room));
    if (room) this.setObserving(room, untilMs(f.until));
  }

  /** Listen-only started (`until`, epoch ms) or was lifted (null), told by a frame or an answer. */
  setObserving(room, until) {
    const was = isObserving(room);
    room.observingUntil = until;
    const is = isObserving(room);
    if (!this.isOpen(room)) return;
    this.render(room);
    if (!was && is) this.hooks.announce(`You are listening only in ${room.name} ${formatUntil(until)}.`);
    if (was && !is) this.hooks.announce(`You can post in ${room.name} again.`);
  }

  /** My role in the room changed (rooms refetched, or a `member_changed` about me). */
  roleChanged(room, before) {
    if (!this.isOpen(room) || before === room.role) return;
    this.render(room);
    if (room.role === 'reader') this.hooks.announce(`${room.name} is read-only for you now.`);
    else if (before === 'reader') this.hooks.announce(`You can post in ${room.name} again.`);
  }

  /**
   * Joined again: an `observing` frame follows only while listen-only lasts, so
   * one we believe in may have been lifted meanwhile (e.g. on another device
   * while this one was offline); a moderator may have lifted a mute while we
   * missed the `unmuted` frame. Ask the server.
   */
  async onJoined(room) {
    if (!isObserving(room) && !isMuted(room)) return;
    try {
      const detail = await api.room(room.id);
      this.setObserving(room, untilMs(detail && detail.observing_until));
      if (detail && 'muted_until' in detail) this.setMuted(room, untilMs(detail.muted_until), room.mutedReason);
    } catch {
      // The times we know still run out by themselves.
    }
  }

  /** A send was refused for a reason that changes what the room shows. */
  refused(room, code, until, retryAfter) {
    if (code === 'observing') this.setObserving(room, untilMs(until) ?? room.observingUntil);
    if (code === 'muted') this.setMuted(room, untilMs(until) ?? (Number(retryAfter) > 0 ? Date.now() + Number(retryAfter) * 1000 : room.mutedUntil), room.mutedReason, { quiet: true });
    if (code === 'locked' && !(room.state && room.state.locked)) {
      room.state = { ...(room.state || {}), locked: true };
      if (this.isOpen(room)) this.render(room);
    }
    if (code === 'slow_mode') {
      noteRefused(room, retryAfter);
      if (this.isOpen(room)) this.render(room);
    }
    if (code === 'read_only') {
      const before = room.role;
      room.role = 'reader';
      this.roleChanged(room, before);
    }
  }

  /** I sent a message in the room: the slow-mode countdown (if any) starts. */
  sent(room) {
    if (this.isOpen(room)) this.render(room);
  }

  clear() {
    clearTimeout(this.expiry);
    this.expiry = null;
    clearInterval(this.ticker);
    this.ticker = null;
    this.controls.closePanel(false);
    this.watch.clear();
    this.gate.clear();
  }

  isOpen(room) {
    const open = this.hooks.openRoom();
    return !!open && open === room;
  }

  render(room) {
    const now = Date.now();
    this.watch.render(room);
    this.controls.render(room, now);
    this.gate.render(room, now);
    clearTimeout(this.expiry);
    this.expiry = null;
    const ends = [isObserving(room, now) ? room.observingUntil : null, isMuted(room, now) ? room.mutedUntil : null].filter((t) => t !== null);
    if (ends.length) {
      // Listen-only and a mute end by themselves; nothing is sent when they do.
      this.expiry = setTimeout(() => {
        if (!this.isOpen(room)) return;
        this.render(room);
        if (!postingBlock(room)) this.hooks.announce(`You can post in ${room.name} again.`);
      }, Math.min(Math.min(...ends) - now + 250, MAX_TIMER_MS));
    }
    this.runCountdown(room, now);
  }

  /** While slow mode makes me wait, the line under the composer counts down each second. */
  runCountdown(room, now) {
    if (waitSeconds(room, now) > 0 && !this.ticker) {
      this.ticker = setInterval(() => {
        const open = this.hooks.openRoom();
        if (open) this.gate.renderSlow(open);
        if (!open || waitSeconds(open) === 0) {
          clearInterval(this.ticker);
          this.ticker = null;
        }
      }, 1000);
    }
  }
}
