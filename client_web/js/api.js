// HTTP: a small fetch wrapper. Same-origin only, JSON in and out; writes carry
// the CSRF token from login / GET /api/me (cookie authentication).

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = body && body.retry_after != null ? Number(body.retry_after) : null;
  }
}

let csrfToken = null;
let onUnauthorized = null;

export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' && token ? token : null;
}

/** Called when a request (other than login) answers 401: the session has ended. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export async function request(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'Could not reach the server', null);
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text().catch(() => '');
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
  }
  if (!res.ok) {
    const code = (data && typeof data.code === 'string' && data.code) || `http_${res.status}`;
    const err = new ApiError(res.status, code, data && data.message, data);
    if (err.retryAfter === null && res.headers.get('Retry-After')) err.retryAfter = Number(res.headers.get('Retry-After'));
    if (res.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const rid = (id) => encodeURIComponent(String(id));

export const api = {
  me: () => request('GET', '/api/me', undefined, { quiet401: true }),
  login: (username, password) => request('POST', '/api/auth/login', { username, password }, { quiet401: true }),
  logout: () => request('POST', '/api/auth/logout', undefined, { quiet401: true }),
  /** The invite behind a link: public, the invitee has no account yet. */
  invite: (token) => request('GET', `/api/invites/${encodeURIComponent(token)}`, undefined, { quiet401: true }),
  register: (fields) => request('POST', '/api/auth/register', fields, { quiet401: true }),
  rooms: () => request('GET', '/api/rooms'),
  /** One room with my role in it, my listen-only time and its state. */
  room: (roomId) => request('GET', `/api/rooms/${rid(roomId)}`),
  observe: (roomId, minutes) => request('POST', `/api/rooms/${rid(roomId)}/observe`, { minutes }),
  stopObserving: (roomId) => request('DELETE', `/api/rooms/${rid(roomId)}/observe`),
  /** opts: {after?, before?, limit?} */
  messages: (roomId, opts = {}) =>
    request('GET', `/api/rooms/${rid(roomId)}/messages${query({ after: opts.after, before: opts.before, limit: opts.limit })}`),
  /** My read marker: I have seen the room up to `seq`. */
  markRead: (roomId, seq) => request('POST', `/api/rooms/${rid(roomId)}/read`, { seq }),
  /** Tell the room's moderators a message is harmful (members only). */
  report: (roomId, seq, reason) => request('POST', `/api/rooms/${rid(roomId)}/messages/${rid(seq)}/report`, { reason }),
  /** "I'm worried about this person": moderators are told privately; the writer never learns who. */
  concern: (roomId, seq, note) => request('POST', `/api/rooms/${rid(roomId)}/messages/${rid(seq)}/concern`, note ? { note } : {}),
  /** People I muted for myself only. */
  myMutes: () => request('GET', '/api/me/mutes'),
  muteForMe: (userId) => request('POST', '/api/me/mutes', { user: userId }),
  unmuteForMe: (userId) => request('DELETE', `/api/me/mutes/${rid(userId)}`),
  crisisResources: () => request('GET', '/api/crisis-resources', undefined, { quiet401: true }),
  /** A short-lived link to download my data (works only in this session). */
  requestExport: () => request('POST', '/api/me/export'),
  /** To whom my record was disclosed (the accounting of disclosures). */
  myDisclosures: () => request('GET', '/api/me/disclosures'),
};
