// Entry point: decides between the registration page (an invite link), the
// login form and the chat, and wires the pieces together. See chat.js for the
// chat itself and register.js for registration.

import { api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { Chat } from './chat.js';
import { friendlyError } from './format.js';
import { setupChangePassword } from './change_password.js';
import { setupDeleteAccount } from './delete_account.js';
import { setupHelp } from './help.js';
import { inviteToken } from './invite_link.js';
import { RegisterView } from './register.js';
import { setupYourData } from './your_data.js';

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
  registerView: $('register-view'),
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
  roomWatch: $('room-watch'),
  presence: $('presence'),
  roomOptionsButton: $('room-options-button'),
  roomOptions: $('room-options'),
  observeTitle: $('observe-title'),
  observeChoices: $('observe-choices'),
  observeCurrent: $('observe-current'),
  observeStop: $('observe-stop'),
  observeError: $('observe-error'),
  roomOptionsClose: $('room-options-close'),
  roomNotice: $('room-notice'),
  unwatched: $('unwatched'),
  unwatchedHeadline: $('unwatched-headline'),
  unwatchedIntro: $('unwatched-intro'),
  unwatchedResources: $('unwatched-resources'),
  unwatchedFallback: $('unwatched-fallback'),
  roomHold: $('room-hold'),
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
  replyBar: $('reply-bar'),
  replyQuote: $('reply-quote'),
  replyCancel: $('reply-cancel'),
  composerClosed: $('composer-closed'),
  composerClosedText: $('composer-closed-text'),
  composerClosedAction: $('composer-closed-action'),
  composerClosedError: $('composer-closed-error'),
  composerSlow: $('composer-slow'),
  notices: $('notices'),
  flagDialog: $('flag-dialog'),
  flagForm: $('flag-form'),
  flagTitle: $('flag-title'),
  flagIntro: $('flag-intro'),
  flagQuote: $('flag-quote'),
  flagLabel: $('flag-label'),
  flagReason: $('flag-reason'),
  flagError: $('flag-error'),
  flagSubmit: $('flag-submit'),
  flagCancel: $('flag-cancel'),
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

const dataButton = $('data-button');
setupYourData({
  button: dataButton,
  dialog: $('data-dialog'),
  title: $('data-title'),
  download: $('data-download'),
  status: $('data-status'),
  list: $('disclosures-list'),
  empty: $('disclosures-empty'),
  listStatus: $('disclosures-status'),
});

setupChangePassword({
  openButton: $('password-open'),
  done: $('password-done'),
  dialog: $('password-dialog'),
  title: $('password-title'),
  form: $('password-form'),
  current: $('password-current'),
  next: $('password-new'),
  error: $('password-error'),
  cancel: $('password-cancel'),
  confirm: $('password-confirm'),
});

setupDeleteAccount({
  section: $('delete-section'),
  openButton: $('delete-open'),
  dataButton,
  dataDialog: $('data-dialog'),
  dialog: $('delete-dialog'),
  title: $('delete-title'),
  form: $('delete-form'),
  password: $('delete-password'),
  error: $('delete-error'),
  cancel: $('delete-cancel'),
  confirm: $('delete-confirm'),
  role: () => (currentUser ? currentUser.role : null),
  onDeleted: () => accountDeleted(),
});

const register = new RegisterView(
  {
    title: $('register-title'),
    status: $('register-status'),
    signedIn: $('register-signed-in'),
    signedInText: $('register-signed-in-text'),
    switchAccount: $('register-switch'),
    stay: $('register-stay'),
    problem: $('register-problem'),
    problemText: $('register-problem-text'),
    retry: $('register-retry'),
    toLogin: $('register-to-login'),
    form: $('register-form'),
    invite: $('register-invite'),
    displayName: $('register-display-name'),
    displayNameError: $('register-display-name-error'),
    username: $('register-username'),
    usernameError: $('register-username-error'),
    password: $('register-password'),
    passwordError: $('register-password-error'),
    showPassword: $('register-show-password'),
    formError: $('register-error'),
    submit: $('register-submit'),
    haveAccount: $('register-have-account'),
  },
  {
    onRegistered: (answer, preview) => {
      forgetInviteLink();
      enterApp(answer.user, answer.csrf_token, { landIn: preview.cohort ? preview.cohort.id : null });
      const name = answer.user && answer.user.display_name;
      announce(name ? `Welcome to Alongside, ${name}.` : 'Welcome to Alongside.');
    },
    onSignIn: () => {
      forgetInviteLink();
      showLogin('');
    },
    onStay: (me) => {
      forgetInviteLink();
      enterApp(me.user, me.csrf_token);
    },
    signOut: () => signOut(),
  },
);

/** The invite token has done its job: take it out of the address bar (and history entry). */
function forgetInviteLink() {
  if (inviteToken(window.location.hash) === null) return;
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
}

function showView(name) {
  dom.loadingView.hidden = name !== 'loading';
  dom.loginView.hidden = name !== 'login';
  dom.registerView.hidden = name !== 'register';
  dom.app.hidden = name !== 'app';
  dom.body.className = `mode-${name}`;
  const signedIn = name === 'app';
  dom.whoami.hidden = !signedIn;
  dom.logoutButton.hidden = !signedIn;
  dataButton.hidden = !signedIn;
}

async function boot() {
  const token = inviteToken(window.location.hash);
  if (token !== null) {
    showView('register');
    register.open(token, await api.me().catch(() => null));
    return;
  }
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

/** options.landIn: the cohort whose room opens first (just registered into it). */
function enterApp(user, csrfToken, options = {}) {
  if (!user || typeof user !== 'object') {
    showLogin('Something went wrong. Please sign in again.');
    return;
  }
  setCsrfToken(csrfToken);
  if (lastUserId !== null && String(lastUserId) !== String(user.id)) chat.sending.outbox.clear(); // someone else's drafts
  currentUser = user;
  lastUserId = user.id;
  dom.whoami.textContent = `Signed in as ${user.display_name || user.username || ''}`;
  showView('app');
  chat.start(user, options);
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

/** Sign out of this device; returns false when the server could not be told. */
async function signOut() {
  chat.stop({ keepOutbox: false }); // close the socket first: its 4001 is expected
  let done = true;
  try {
    await api.logout();
  } catch (err) {
    if (err.status !== 401) done = false;
  }
  setCsrfToken(null);
  currentUser = null;
  lastUserId = null;
  return done;
}

dom.logoutButton.addEventListener('click', async () => {
  dom.logoutButton.disabled = true;
  const done = await signOut();
  dom.logoutButton.disabled = false;
  showLogin(done ? 'You have signed out.' : 'We could not reach the server to finish signing out. Please try again before leaving this device.');
});

/** My account is gone: nothing of it stays on this device (not even unsent messages). */
function accountDeleted() {
  chat.stop({ keepOutbox: false });
  setCsrfToken(null);
  currentUser = null;
  lastUserId = null;
  showLogin('Your account has been deleted and your messages erased.');
}

function sessionEnded() {
  if (!currentUser) return;
  currentUser = null;
  chat.stop({ keepOutbox: true }); // unsent messages go out if the same person signs in again
  setCsrfToken(null);
  showLogin('Your session has ended. Please sign in again.');
}

dom.loadingRetry.addEventListener('click', boot);

// An invite link opened in a tab that already shows Alongside changes only the fragment.
window.addEventListener('hashchange', () => {
  if (inviteToken(window.location.hash) === null) return;
  if (currentUser) {
    currentUser = null;
    chat.stop({ keepOutbox: true });
  }
  boot();
});

boot();
