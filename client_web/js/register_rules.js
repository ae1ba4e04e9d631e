// What the registration form says: field rules (the same as the server's, so
// most mistakes are caught before a round trip), the kind wording for an invite
// that cannot be used, and which field a server refusal belongs to. Pure.

const USERNAME = /^[a-z0-9][a-z0-9_.-]{2,31}$/;
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u;
const ZWJ = /\u200d/g; // joins emoji; allowed, as on the server
const PASSWORD_MIN = 10;
const PASSWORD_MAX = 256;
const DISPLAY_MAX = 64;

/** The form's fields, in the order the page shows them. */
export const FIELDS = ['display_name', 'username', 'password'];

const chars = (text) => [...text].length;

/** Why a field's value will be refused, in words for the person, or '' when fine. */
export function fieldProblem(field, value) {
  const v = typeof value === 'string' ? value : '';
  if (field === 'username') {
    const name = v.trim().toLowerCase();
    if (!name) return 'Please choose a username.';
    if (!USERNAME.test(name)) return 'Use 3 to 32 characters: letters, numbers, dots, dashes or underscores, starting with a letter or number.';
    return '';
  }
  if (field === 'password') {
    if (!v) return 'Please choose a password.';
    if (!v.trim()) return 'A password cannot be only spaces.';
    if (chars(v) < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters. A few words together are easy to remember.`;
    if (chars(v) > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
    return '';
  }
  if (field === 'display_name') {
    const name = v.trim();
    if (!name) return 'Please choose the name others will see. A first name or a nickname is fine.';
    if (chars(name) > DISPLAY_MAX) return `Use at most ${DISPLAY_MAX} characters.`;
    if (INVISIBLE.test(name.replace(ZWJ, ''))) return 'Please use only visible letters, numbers and symbols.';
    return '';
  }
  return '';
}

const INVITE_TEXT = {
  invite_invalid:
    'This invite link does not seem to be complete. Links sometimes get cut off when they are copied: please open it again from your invitation, or ask your program team for a new one.',
  invite_expired: 'This invite has expired. That is all right: your counsellor or program team can send you a new link.',
  invite_used:
    'This invite has already been used. If you created your account with it, you can sign in. Otherwise, your program team can send you a new link.',
  invite_revoked: 'This invite is no longer active. Your program team can send you a new link.',
  invite_gone: 'The group this invite was for has closed. Please ask your program team for a new link.',
};

export function isInviteCode(code) {
  return Object.hasOwn(INVITE_TEXT, code);
}

/** Kind wording for an invite that cannot be used (any unknown code reads as invalid). */
export function inviteProblemText(code) {
  return INVITE_TEXT[code] || INVITE_TEXT.invite_invalid;
}

/**
 * Where a refused registration's explanation goes:
 * {invite: code} (the invite cannot be used: show why, hide the form),
 * {field, text} (next to that field), or {text} (for the whole form).
 * `values` are what was sent, to explain an `invalid` field in our own words.
 */
export function registrationRefusal(err, values) {
  const code = err && err.code;
  const field = err && err.body && typeof err.body.field === 'string' ? err.body.field : null;
  if (isInviteCode(code)) return { invite: code };
  if (code === 'conflict' && field === 'username') return { field, text: 'That username is already taken. Please choose another one.' };
  if (code === 'invalid' && FIELDS.includes(field)) {
    return { field, text: fieldProblem(field, values[field]) || 'Please check this and try again.' };
  }
  if (code === 'rate_limited') {
    const s = Math.ceil(Number(err.retryAfter) || 0);
    return { text: s > 0 ? `Too many attempts. Please wait ${s} seconds and try again.` : 'Too many attempts. Please wait a moment and try again.' };
  }
  if (code === 'network') return { text: 'We cannot reach Alongside right now. Check your connection and try again. Nothing was created yet.' };
  return { text: 'Something went wrong while creating your account. Nothing was created; please try again.' };
}
