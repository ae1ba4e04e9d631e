// Invite links open the client at `<base>/#invite=<token>`. The token travels in
// the fragment so it never reaches a server log or a Referer header; the page
// removes it from the address bar once it has been used.

/** The invite token in a location hash ("#invite=…"), or null. */
export function inviteToken(hash) {
  const fragment = typeof hash === 'string' ? hash.replace(/^#/, '') : '';
  for (const part of fragment.split('&')) {
    if (!part.startsWith('invite=')) continue;
    let token;
    try {
      token = decodeURIComponent(part.slice('invite='.length));
    } catch {
      return null;
    }
    token = token.trim();
    return token || null;
  }
  return null;
}
