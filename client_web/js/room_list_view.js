// The room list's DOM: one titled list per group (room_groups.js), each room
// with its unread count and latest line (unread.js).

import { el } from './render.js';
import { MAX_UNREAD } from './unread.js';

/**
 * The room list: one titled list per group (see room_groups.js), each room a
 * button (aria-current on the open one), read-only rooms marked as such.
 * describe(room) -> {unread: number, latest: {who, text}|null}
 */
export function renderRoomList(container, groups, openKey, onSelect, describe) {
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset.room : undefined;
  const sections = groups.map((group) => {
    const titleId = `room-group-${group.id}`;
    const items = group.rooms.map((room) => {
      const { unread, latest } = describe(room);
      const name = room.name || 'Untitled room';
      const reader = room.role === 'reader';
      // The button's name is its visible text plus a few words for screen readers
      // ("Group, 3 unread messages, read only. Latest: Ben: hello"), so what a
      // voice-control user reads off the screen is part of the name.
      const attrs = { type: 'button', 'data-room': room.key };
      const btn = el('button', { className: `room-button${unread ? ' room-has-unread' : ''}`, attrs }, [
        el('span', { className: 'room-top' }, [el('span', { className: 'room-name', text: name }), ...(unread ? unreadParts(unread) : [])]),
        ...(reader ? [hidden(', '), el('span', { className: 'room-note', text: 'Read only' })] : []),
        latest
          ? el('span', { className: `room-latest${latest.removed ? ' room-latest-removed' : ''}` }, [hidden('. Latest: '), el('span', { className: 'room-latest-who', text: `${latest.who}: ` }), latest.text])
          : null,
      ]);
      if (room.key === openKey) btn.setAttribute('aria-current', 'true');
      btn.addEventListener('click', () => onSelect(room.key));
      return el('li', {}, [btn]);
    });
    return el('div', { className: 'room-group' }, [
      el('h3', { className: 'room-group-title', text: group.title, attrs: { id: titleId } }),
      el('ul', { className: 'room-list', attrs: { 'aria-labelledby': titleId } }, items),
    ]);
  });
  container.replaceChildren(...sections);
  if (focused !== undefined) {
    const again = [...container.querySelectorAll('button[data-room]')].find((b) => b.dataset.room === focused);
    if (again) again.focus(); // a refreshed list keeps the keyboard where it was
  }
}

/** "3", or "999+" at the server's cap. */
function unreadText(unread) {
  return unread >= MAX_UNREAD ? `${MAX_UNREAD}+` : String(unread);
}

function hidden(text) {
  return el('span', { className: 'visually-hidden', text });
}

/** The badge shows "3"; a screen reader hears ", 3 unread messages". */
function unreadParts(unread) {
  return [hidden(', '), el('span', { className: 'room-unread', text: unreadText(unread) }), hidden(` unread message${unread === 1 ? '' : 's'}`)];
}
