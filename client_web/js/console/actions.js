// What a moderator can do, each as one dialog (action_dialog.js) that says
// what will happen to whom, takes a reason, and calls the endpoint. The live
// effect comes back over the socket; `done` lets the console refresh what the
// socket does not carry (e.g. the queue after a removal).

import { excerpt } from '../format.js';
import { modApi } from './api.js';
import { banFollowUp, durationText, MUTE_CHOICES, slowText, SLOW_CHOICES, staffName } from './words.js';

const HOLD_CHOICES = [
  { value: 'off', text: 'Off: messages appear at once' },
  { value: 'unmonitored', text: 'While nobody is watching the room' },
  { value: 'always', text: 'Always: every member message waits for review' },
];

function quoted(body) {
  const t = excerpt(typeof body === 'string' ? body : '', 200);
  return t ? `“${t}”` : '';
}

export class Actions {
  /**
   * @param {import('./action_dialog.js').ActionDialog} dialog
   * @param {{announce: (text: string) => void, done: () => void}} hooks
   */
  constructor(dialog, hooks) {
    this.dialog = dialog;
    this.hooks = hooks;
  }

  async run(spec, said) {
    const ok = await this.dialog.open(spec);
    if (ok) {
      this.hooks.announce(said);
      this.hooks.done();
    }
    return ok;
  }

  /** target: {room, roomName, seq, author, body} */
  removeMessage(t) {
    return this.run(
      {
        title: 'Remove message',
        about: `${staffName(t.author)} in ${t.roomName || 'this room'}: ${quoted(t.body)} Everyone will see “removed by a moderator” instead; the text is deleted.`,
        confirm: 'Remove message',
        perform: ({ reason }) => modApi.removeMessage(t.room, t.seq, reason),
      },
      'Message removed.',
    );
  }

  /** t: {room, roomName, user: {id, ...}} */
  mute(t) {
    return this.run(
      {
        title: `Mute ${staffName(t.user)}`,
        about: `They can read ${t.roomName || 'the room'} but not post until the time is up.`,
        confirm: 'Mute',
        choice: { label: 'For how long', options: MUTE_CHOICES.map((m) => ({ value: m, text: durationText(m) })), value: 60 },
        perform: ({ reason, choice }) => modApi.mute(t.room, t.user.id, Number(choice), reason),
      },
      `${staffName(t.user)} is muted.`,
    );
  }

  removeFromRoom(t) {
    return this.run(
      {
        title: `Remove ${staffName(t.user)} from ${t.roomName || 'the room'}`,
        about: 'They leave the room at once and stay out, whatever their enrollment does, until a moderator adds them back; their messages stay.',
        confirm: 'Remove from room',
        perform: ({ reason }) => modApi.removeMember(t.room, t.user.id, reason),
      },
      `${staffName(t.user)} was removed from ${t.roomName || 'the room'}.`,
    );
  }

  /**
   * t: {program, user}. Resolves to what the moderator should do next, from the answer
   * (banFollowUp: '' when nothing), for the caller to show; false when cancelled.
   */
  async ban(t) {
    let answer = null;
    const ok = await this.run(
      {
        title: `Ban ${staffName(t.user)} from the program`,
        about: 'They leave every room of the program and are signed out everywhere; they cannot be invited again until the ban is lifted. If the invite link they joined with still works, it is withdrawn.',
        confirm: 'Ban from program',
        reasonRequired: true,
        perform: async ({ reason }) => {
          answer = await modApi.ban(t.program, t.user.id, reason);
        },
      },
      `${staffName(t.user)} is banned from the program.`,
    );
    return ok ? banFollowUp(answer) : false;
  }

  /** t: {room, roomName, user} */
  unmute(t) {
    return this.run(
      {
        title: `Lift ${staffName(t.user)}'s mute in ${t.roomName || 'the room'}`,
        about: 'They can post there again at once.',
        confirm: 'Lift mute',
        perform: ({ reason }) => modApi.unmute(t.room, t.user.id, reason),
      },
      `${staffName(t.user)} can post again.`,
    );
  }

  /** t: {program, user} */
  unban(t) {
    return this.run(
      {
        title: `Lift ${staffName(t.user)}'s ban`,
        about: 'Their enrollment goes back to what it was before the ban, with its rooms; they sign in again themselves.',
        confirm: 'Lift ban',
        perform: ({ reason }) => modApi.unban(t.program, t.user.id, reason),
      },
      `${staffName(t.user)}'s ban is lifted.`,
    );
  }

  /** t: {program, user, room?} */
  warn(t) {
    return this.run(
      {
        title: `Warn ${staffName(t.user)}`,
        about: 'They receive the reason privately. Several active warnings turn into a timed mute.',
        confirm: 'Send warning',
        reasonRequired: true,
        perform: ({ reason }) => modApi.warn(t.program, t.user.id, reason, t.room),
      },
      `Warning sent to ${staffName(t.user)}.`,
    );
  }

  /** outcome: 'actioned' | 'dismissed' */
  resolve(item, outcome) {
    const dismiss = outcome === 'dismissed';
    return this.run(
      {
        title: dismiss ? 'Dismiss this item' : 'Mark this item resolved',
        about: dismiss ? 'Nothing needed doing. It leaves the open queue.' : 'It was dealt with. It leaves the open queue.',
        confirm: dismiss ? 'Dismiss' : 'Resolve',
        perform: ({ reason }) => modApi.resolve(item.id, outcome, reason),
      },
      dismiss ? 'Item dismissed.' : 'Item resolved.',
    );
  }

  rejectHeld(item) {
    return this.run(
      {
        title: 'Reject held message',
        about: `${staffName(item.subject)}: ${quoted(item.excerpt)} It will not be posted; they are told, with your reason.`,
        confirm: 'Reject',
        perform: ({ reason }) => modApi.rejectHeld(item.room, item.held_id, reason),
      },
      'Held message rejected.',
    );
  }

  /** room: {id, name}, locked: what it is now */
  lock(room, locked) {
    return this.run(
      {
        title: locked ? `Unlock ${room.name}` : `Lock ${room.name}`,
        about: locked ? 'Members can post again.' : 'Only moderators can post until you unlock it.',
        confirm: locked ? 'Unlock room' : 'Lock room',
        perform: ({ reason }) => modApi.roomSettings(room.id, { locked: !locked }, reason),
      },
      locked ? `${room.name} is unlocked.` : `${room.name} is locked.`,
    );
  }

  slow(room, seconds) {
    return this.run(
      {
        title: `Slow mode in ${room.name}`,
        about: 'Each member may post once per interval. Moderators are never slowed.',
        confirm: 'Save',
        choice: { label: 'One message per', options: SLOW_CHOICES.map((s) => ({ value: s, text: slowText(s) })), value: seconds || 0 },
        perform: ({ reason, choice }) => modApi.roomSettings(room.id, { slow_seconds: Number(choice) }, reason),
      },
      `Slow mode changed in ${room.name}.`,
    );
  }

  hold(room, mode) {
    return this.run(
      {
        title: `Hold for review in ${room.name}`,
        about: 'Held messages wait in the queue, seen only by their author and moderators, until approved.',
        confirm: 'Save',
        choice: { label: 'Hold new messages', options: HOLD_CHOICES, value: mode || 'off' },
        perform: ({ reason, choice }) => modApi.roomSettings(room.id, { hold_mode: choice }, reason),
      },
      `Hold for review changed in ${room.name}.`,
    );
  }
}
