// The moderator console (/console): signs in with the chat's session cookie
// (or its own form, same endpoint), then keeps one WebSocket for everything
// live: the rooms I moderate (rooms.js) and the queue (`alert` and `queue`
// frames, queue.js). Actions go through one dialog (actions.js); a person's
// history (person_view.js), the settings of the programs I manage
// (program_view.js) and, for admins, the audit trail (audit_view.js).

import { api, setCsrfToken, setUnauthorizedHandler } from '../api.js';
import { ConnectionBanner } from '../banner.js';
import { friendlyError } from '../format.js';
import { Connection } from '../socket.js';
import { ActionDialog, refusalText } from './action_dialog.js';
import { Actions } from './actions.js';
import { modApi } from './api.js';
import { AuditView } from './audit_view.js';
import { DisclosureView } from './disclosure_view.js';
import { PersonView } from './person_view.js';
import { ProgramView } from './program_view.js';
import { alertCount, applyQueueFrame, createQueue, loadQueue, openItems } from './queue.js';
import { QueueView } from './queue_view.js';
import { Rooms } from './rooms.js';
import { alertAnnouncement, staffName } from './words.js';

const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
};

const VIEWS = ['queue', 'rooms', 'person', 'programs', 'audit'];
const QUEUE_REFRESH_MS = 60000; // the frames keep it current; this catches what a dropped socket missed

let me = null;
let timer = null;
const queue = createQueue();
let queueNote = '';
/** user id -> what staff know of them (GET /api/programs/{p}/people) */
const known = new Map();

function announce(text) {
  say($('announcer'), text);
}

function say(region, text) {
  const p = document.createElement('p');
  p.textContent = text;
  region.append(p);
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

const banner = new ConnectionBanner($('conn-banner'));
const conn = new Connection({
  onReady: () => {
    rooms.joinAll();
    if (!banner.node.textContent) return; // the first connection: enter() has just read everything
    banner.back();
    refreshQueue(); // what the socket missed while it was down
    rooms.load();
  },
  onFrame: (f) => onFrame(f),
  onDown: () => {
    banner.down();
    rooms.down();
  },
  onSessionEnded: () => sessionEnded(),
});

const dialog = new ActionDialog({
  dialog: $('action-dialog'),
  form: $('action-form'),
  title: $('action-title'),
  about: $('action-about'),
  choiceField: $('action-choice-field'),
  choiceLabel: $('action-choice-label'),
  choice: $('action-choice'),
  reason: $('action-reason'),
  reasonNote: $('action-reason-note'),
  error: $('action-error'),
  confirm: $('action-confirm'),
  cancel: $('action-cancel'),
});
const actions = new Actions(dialog, { announce, done: () => refreshQueue() });

const rooms = new Rooms(
  {
    list: $('watch-list'),
    status: $('rooms-status'),
    detail: $('watch-room'),
    title: $('watch-room-title'),
    state: $('watch-room-state'),
    online: $('watch-room-online'),
    lock: $('room-lock'),
    slow: $('room-slow'),
    hold: $('room-hold'),
    error: $('watch-room-error'),
    messages: $('watch-messages'),
  },
  { conn, actions, known, openPerson: (t) => openPerson(t), changed: () => renderCounts() },
);

function roomName(id) {
  const room = rooms.rooms.get(String(id));
  return room ? room.name : `room ${id}`;
}

const person = new PersonView(
  {
    title: $('person-title'),
    status: $('person-status'),
    body: $('person-body'),
    standing: $('person-standing'),
    actions: $('person-actions'),
    notes: $('person-notes'),
    noteForm: $('note-form'),
    noteBody: $('note-body'),
    noteError: $('note-error'),
    warnings: $('person-warnings'),
    queue: $('person-queue'),
    audit: $('person-audit'),
  },
  { actions, roomName },
);

const disclosures = new DisclosureView({
  block: $('disclose-block'),
  form: $('disclose-form'),
  recipient: $('disclose-recipient'),
  purpose: $('disclose-purpose'),
  error: $('disclose-error'),
  status: $('disclose-status'),
  list: $('disclose-list'),
  holdToggle: $('hold-toggle'),
  holdForm: $('hold-form'),
  holdRecipient: $('hold-recipient'),
  holdPurpose: $('hold-purpose'),
  holdScope: $('hold-scope'),
  holdError: $('hold-error'),
});

const audit = new AuditView(
  { form: $('audit-form'), program: $('audit-program'), action: $('audit-action'), status: $('audit-status'), list: $('audit-list'), more: $('audit-more') },
  roomName,
);

const programView = new ProgramView({ status: $('programs-status'), list: $('programs-list') });

const queueView = new QueueView({ list: $('queue-list'), status: $('queue-status') }, (act, item) => onQueueAction(act, item));

// ---- views ---------------------------------------------------------------

function show(name, { focus = false } = {}) {
  for (const v of VIEWS) $(`${v}-view`).hidden = v !== name;
  for (const tab of document.querySelectorAll('.console-tab')) {
    if (tab.dataset.view === name) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  rooms.setVisible(name === 'rooms');
  if (name === 'audit') audit.show();
  if (focus) $(`${name}-title`).focus();
}

for (const tab of document.querySelectorAll('.console-tab')) tab.addEventListener('click', () => show(tab.dataset.view, { focus: true }));
$('alert-strip-open').addEventListener('click', () => show('queue', { focus: true }));

function openPerson(target) {
  $('person-tab').hidden = false;
  show('person', { focus: true });
  person.open(target);
  disclosures.open(target);
}

function renderCounts() {
  const open = openItems(queue);
  const alerts = alertCount(queue);
  $('queue-count').textContent = open.length ? `(${open.length})` : '';
  const busy = rooms.busyCount();
  $('rooms-count').textContent = busy ? `(${busy} with new messages)` : '';
  $('alert-strip').hidden = alerts === 0;
  $('alert-strip-text').textContent = alerts === 1 ? '1 alert is waiting for a moderator.' : `${alerts} alerts are waiting for a moderator.`;
  document.title = `${alerts ? `(${alerts} alert${alerts === 1 ? '' : 's'}) ` : ''}Alongside · Moderator console`; // seen from another tab
}

// ---- the queue -------------------------------------------------------------

let queueLoads = 0;

async function refreshQueue() {
  const mine = ++queueLoads; // only the latest answer counts
  try {
    const data = await modApi.queue('open');
    if (mine !== queueLoads) return;
    loadQueue(queue, data && data.items);
    queueNote = '';
  } catch (err) {
    if (err.status === 401) return;
    queueNote = err.status === 404 || err.status === 405 ? 'The queue is not available on this server yet.' : `The queue could not be loaded: ${refusalText(err)}`;
  }
  renderQueue();
}

function renderQueue() {
  queueView.render(openItems(queue), queueNote);
  renderCounts();
}

async function onQueueAction(act, item) {
  const subject = item.subject ? { ...item.subject } : null;
  try {
    if (act === 'ack') {
      await modApi.ack(item.id);
      announce('Alert acknowledged.');
      refreshQueue();
    } else if (act === 'approve') {
      await modApi.approveHeld(item.room, item.held_id);
      announce('Held message approved and posted.');
      refreshQueue();
    } else if (act === 'reject') await actions.rejectHeld(item);
    else if (act === 'remove') await actions.removeMessage({ room: item.room, roomName: item.room_name, seq: item.target_seq, author: subject, body: item.excerpt });
    else if (act === 'mute') await actions.mute({ room: item.room, roomName: item.room_name, user: subject });
    else if (act === 'warn') await actions.warn({ program: item.program, user: subject, room: item.room });
    else if (act === 'resolve') await actions.resolve(item, 'actioned');
    else if (act === 'dismiss') await actions.resolve(item, 'dismissed');
    else if (act === 'person') openPerson({ program: item.program, user: subject, room: item.room, roomName: item.room_name });
  } catch (err) {
    $('queue-status').textContent = refusalText(err);
  }
}

// ---- frames ------------------------------------------------------------------

function onFrame(f) {
  if (f.type === 'alert' || f.type === 'queue') {
    const { item, alert } = applyQueueFrame(queue, f);
    if (!item) return;
    renderQueue();
    if (alert) say($('alert-announcer'), alertAnnouncement(item));
    return;
  }
  if (rooms.onFrame(f)) return;
  if (f.type === 'rooms_changed') rooms.load();
  else if (f.type === 'error' && f.code === 'unauthorized') sessionEnded();
}

// ---- signing in and out ----------------------------------------------------------

function showScreen(name) {
  for (const s of ['loading', 'login', 'denied']) $(`${s}-view`).hidden = s !== name;
  $('console-view').hidden = name !== 'console';
  document.body.className = `console mode-${name}`;
  $('whoami').hidden = name !== 'console' && name !== 'denied';
  $('logout-button').hidden = $('whoami').hidden;
}

async function boot() {
  showScreen('loading');
  try {
    const data = await api.me();
    await enter(data.user, data.csrf_token);
  } catch (err) {
    if (err.status === 401) showLogin('');
    else $('loading-text').textContent = err.code === 'network' ? friendlyError('network') : 'Something went wrong while starting. Please reload the page.';
  }
}

async function enter(user, csrf) {
  setCsrfToken(csrf);
  me = user;
  $('whoami').textContent = `Signed in as ${staffName(user)}`;
  rooms.start();
  await rooms.load();
  if (user.role !== 'admin' && user.role !== 'staff' && rooms.size === 0) {
    rooms.stop();
    showScreen('denied');
    return;
  }
  $('audit-tab').hidden = user.role !== 'admin';
  showScreen('console');
  show('queue');
  loadKnown();
  programView.load(user).then((managed) => {
    $('programs-tab').hidden = managed === 0;
  });
  conn.start();
  refreshQueue();
  timer = setInterval(() => {
    if (document.visibilityState === 'visible' && conn.ready) refreshQueue();
  }, QUEUE_REFRESH_MS);
}

/** What staff may know of the people in my rooms' programs (real names, usernames). */
async function loadKnown() {
  for (const program of rooms.programs()) {
    try {
      const data = await modApi.people(program);
      for (const entry of (data && data.people) || []) if (entry && entry.user) known.set(String(entry.user.id), entry.user);
    } catch {
      /* a moderator who is not program staff sees display names */
    }
  }
  rooms.changed(null);
  if (rooms.selected) rooms.renderDetail();
}

function leave() {
  conn.stop();
  rooms.stop();
  clearInterval(timer);
  timer = null;
  queue.items.clear();
  queue.announced.clear();
  known.clear();
  $('programs-tab').hidden = true;
  $('programs-list').replaceChildren();
  banner.clear();
  setCsrfToken(null);
  me = null;
}

function sessionEnded() {
  if (!me) return;
  leave();
  showLogin('Your session has ended. Please sign in again.');
}

setUnauthorizedHandler(() => sessionEnded());

function showLogin(notice) {
  showScreen('login');
  $('login-notice').textContent = notice;
  $('login-error').textContent = '';
  $('login-username').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const error = $('login-error');
  if (!username || !password) {
    error.textContent = 'Please enter your username and password.';
    return;
  }
  const submit = $('login-submit');
  submit.disabled = true;
  error.textContent = '';
  try {
    const data = await api.login(username, password);
    $('login-password').value = '';
    await enter(data.user, data.csrf_token);
  } catch (err) {
    error.textContent = err.status === 401 ? 'That username and password do not match.' : refusalText(err);
    $('login-password').focus();
  } finally {
    submit.disabled = false;
  }
});

$('logout-button').addEventListener('click', async () => {
  leave();
  try {
    await api.logout();
  } catch {
    /* signed out here either way */
  }
  showLogin('You have signed out.');
});

boot();
