// The open room's standing: is anyone watching it (`room_state`), and may I
// post in it (my role, and listen-only time). Keeps each room's `state`,
// `role` and `observingUntil` current from frames, HTTP answers and refused
// sends, and shows them for the open room (WatchView, ComposerGate,
// ObserveControls). Changes to the open room are announced to screen readers.

import { api } from './api.js';
import { ComposerGate } from './composer_gate.js';
import { formatUntil } from './format.js';
import { ObserveControls } from './observe_controls.js';
import { isObserving, postingBlock, untilMs } from './posting.js';
import { roomKey } from './room.js';
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
    if (!this.isOpen(room)) return;
    this.watch.render(room);
    this.hooks.announce(changeAnnouncement(before, f, room.name));
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
   * while this one was offline). Ask the server.
   */
  async onJoined(room) {
    if (!isObserving(room)) return;
    try {
      const detail = await api.room(room.id);
      this.setObserving(room, untilMs(detail && detail.observing_until));
    } catch {
      // The time we know still runs out by itself.
    }
  }

  /** A send was refused for a reason that changes what the room shows. */
  refused(room, code, until) {
    if (code === 'observing') this.setObserving(room, untilMs(until) ?? room.observingUntil);
    if (code === 'read_only') {
      const before = room.role;
      room.role = 'reader';
      this.roleChanged(room, before);
    }
  }

  clear() {
    clearTimeout(this.expiry);
    this.expiry = null;
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
    if (isObserving(room, now)) {
      // Listen-only ends by itself; nothing is sent when it does.
      this.expiry = setTimeout(() => {
        if (!this.isOpen(room)) return;
        this.render(room);
        if (!isObserving(room)) this.hooks.announce(`You can post in ${room.name} again.`);
      }, Math.min(room.observingUntil - now + 250, MAX_TIMER_MS));
    }
  }
}
