// Entry point: decides between the login form and the chat, and wires the
// pieces together. See chat.js for the chat itself.

import { api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { Chat } from './chat.js';
import { friendlyError } from './format.js';
import { setupHelp } from './help.js';

const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
};

const dom = {
  body: document.body,
  main: $('main'),
  loadingView: $('loading-view'),
  loadingText: $('loading-text'),
  loadingRetry: $('loading-retry'),
  loginView: $('login-view'),
  loginForm: $('login-form'),
  loginUsername: $('login-username'),
  loginPassword: $('login-password'),
  loginError: $('login-error'),
  loginNotice: $('login-notice'),
  loginSubmit: $('login-submit'),
  app: $('app-view'),
  whoami: $('whoami'),
  logoutButton: $('logout-button'),
  banner: $('conn-banner'),
  roomList: $('room-list'),
  roomsHeading: $('rooms-heading'),
  roomsStatus: $('rooms-status'),
  noRoom: $('no-room'),
  roomContent: $('room-content'),
  backToRooms: $('back-to-rooms'),
  roomTitle: $('room-title'),
  presence: $('presence'),
  scroller: $('message-scroller'),
  loadEarlier: $('load-earlier'),
  historyStatus: $('history-status'),
  messageList: $('message-list'),
  pendingList: $('pending-list'),
  jumpLatest: $('jump-latest'),
  typing: $('typing'),
  composer: $('composer'),
  composerInput: $('composer-input'),
  composerError: $('composer-error'),
  announcer: $('announcer'),
};

// ---- screen-reader announcements (separate polite live region) ----------

function announce(text) {
  if (!text) return;
  const p = document.createElement('p');
  p.textContent = text;
  dom.announcer.append(p);
  while (dom.announcer.childElementCount > 5) dom.announcer.firstElementChild.remove();
  setTimeout(() => p.remove(), 15000);
}

// ---- session -------------------------------------------------------------

let currentUser = null;
let lastUserId = null; // who the kept outbox belongs to

const chat = new Chat(dom, { announce, onSessionEnded: () => sessionEnded() });
setUnauthorizedHandler(() => sessionEnded());

setupHelp({
  button: $('help-button'),
  dialog: $('help-dialog'),
  title: $('help-title'),
  list: $('help-list'),
  status: $('help-status'),
  fallback: $('help-fallback'),
});

function showView(name) {
  dom.loadingView.hidden = name !== 'loading';
  dom.loginView.hidden = name !== 'login';
  dom.app.hidden = name !== 'app';
  dom.body.className = `mode-${name}`;
  const signedIn = name === 'app';
  dom.whoami.hidden = !signedIn;
  dom.logoutButton.hidden = !signedIn;
}

async function boot() {
  showView('loading');
  dom.loadingText.textContent = 'Getting things ready…';
  dom.loadingRetry.hidden = true;
  try {
    const data = await api.me();
    enterApp(data.user, data.csrf_token);
  } catch (err) {
    if (err.status === 401) {
      showLogin('');
      return;
    }
    dom.loadingText.textContent =
      err.code === 'network' ? friendlyError('network') : 'Something went wrong while starting. Please try again.';
    dom.loadingRetry.hidden = false;
  }
}

function enterApp(user, csrfToken) {
  if (!user || typeof user !== 'object') {
    showLogin('Something went wrong. Please sign in again.');
    return;
  }
  setCsrfToken(csrfToken);
  if (lastUserId !== null && String(lastUserId) !== String(user.id)) chat.outbox.clear(); // someone else's drafts
  currentUser = user;
  lastUserId = user.id;
  dom.whoami.textContent = `Signed in as ${user.display_name || user.username || ''}`;
  showView('app');
  chat.start(user);
}

function showLogin(notice) {
  showView('login');
  dom.loginNotice.textContent = notice || '';
  dom.loginError.textContent = '';
  setInvalid(false);
  dom.loginSubmit.disabled = false;
  dom.loginSubmit.textContent = 'Sign in';
  dom.loginUsername.focus();
}

function setInvalid(on) {
  for (const input of [dom.loginUsername, dom.loginPassword]) input.setAttribute('aria-invalid', on ? 'true' : 'false');
}

function loginErrorText(err) {
  if (err.status === 401) return 'That username and password do not match. Please check them and try again.';
  if (err.code === 'rate_limited') {
    const s = Math.ceil(Number(err.retryAfter) || 0);
    return s > 0 ? `Too many attempts. Please wait ${s} seconds and try again.` : 'Too many attempts. Please wait a moment and try again.';
  }
  if (err.code === 'invalid') return 'Please enter your username and password.';
  if (err.code === 'network') return friendlyError('network');
  return 'Something went wrong while signing in. Please try again.';
}

dom.loginForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const username = dom.loginUsername.value.trim();
  const password = dom.loginPassword.value;
  dom.loginNotice.textContent = '';
  if (!username || !password) {
    dom.loginError.textContent = !username ? 'Please enter your username.' : 'Please enter your password.';
    (username ? dom.loginPassword : dom.loginUsername).focus();
    setInvalid(true);
    return;
  }
  dom.loginError.textContent = '';
  dom.loginSubmit.disabled = true;
  dom.loginSubmit.textContent = 'Signing in…';
  try {
    const data = await api.login(username, password);
    dom.loginPassword.value = '';
    setInvalid(false);
    enterApp(data.user, data.csrf_token);
  } catch (err) {
    dom.loginError.textContent = loginErrorText(err);
    setInvalid(err.status === 401 || err.code === 'invalid');
    dom.loginPassword.focus();
  } finally {
    dom.loginSubmit.disabled = false;
    dom.loginSubmit.textContent = 'Sign in';
  }
});

dom.logoutButton.addEventListener('click', async () => {
  dom.logoutButton.disabled = true;
  chat.stop({ keepOutbox: false }); // close the socket first: its 4001 is expected
  let notice = 'You have signed out.';
  try {
    await api.logout();
  } catch (err) {
    if (err.status !== 401) notice = 'We could not reach the server to finish signing out. Please try again before leaving this device.';
  }
  setCsrfToken(null);
  currentUser = null;
  lastUserId = null;
  dom.logoutButton.disabled = false;
  showLogin(notice);
});

function sessionEnded() {
  if (!currentUser) return;
  currentUser = null;
  chat.stop({ keepOutbox: true }); // unsent messages go out if the same person signs in again
  setCsrfToken(null);
  showLogin('Your session has ended. Please sign in again.');
}

dom.loadingRetry.addEventListener('click', boot);

boot();
