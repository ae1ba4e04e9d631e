// DOM building. Every piece of user-provided text (message bodies, display
// names, room names, resource names, moderators' reasons) goes in through textContent or
// createTextNode, never innerHTML; links only through links.js.

import { displayName, formatFullTime, formatTime } from './format.js';
import { httpHref, linkSegments } from './links.js';
import { CRISIS_INTRO, CRISIS_INTRO_HELD, CRISIS_TITLE } from './notices.js';
import { quoteGoneText, tombstoneText, writerName } from './tombstone.js';

/** document.createElement with classes, text and attributes. */
export function el(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  for (const child of children) if (child) node.append(child);
  return node;
}

function timeNode(ts) {
  const label = formatTime(ts);
  if (!label) return null;
  return el('time', { className: 'msg-time', text: label, attrs: { datetime: ts, title: formatFullTime(ts) } });
}

/**
 * A stored message (or its tombstone): who and when, the message it answers,
 * its text (http(s) links clickable), its reactions, and React / Reply / More.
 * The buttons carry data-action; the conversation listens on the whole list.
 * ctx: {meId, removed, reactions: reactionSummary(...), crisis: resources|null (support offered
 * to me privately after it), quoteRemoved: the message it answers was removed, hidden: its writer
 * is someone I muted for myself (a small line stands in for it), mutedWriter: ... and it is shown anyway,
 * why / quoteWhy: why it / the message it answers was erased (tombstone.js)}
 */
export function messageNode(ev, { meId, removed, reactions = [], crisis = null, quoteRemoved = false, hidden = false, mutedWriter = false, why = null, quoteWhy = null }) {
  const mine = ev.author && meId !== null && meId !== undefined && String(ev.author.id) === String(meId);
  const li = el('li', {
    className: `msg${mine ? ' msg-mine' : ''}${removed ? ' msg-removed' : ''}${hidden ? ' msg-hidden' : ''}`,
    attrs: { 'data-seq': ev.seq, tabindex: '-1' },
  });
  if (ev.author && ev.author.id !== undefined && ev.author.id !== null) li.dataset.author = String(ev.author.id);
  const t = Date.parse(ev.ts);
  if (!Number.isNaN(t)) li.dataset.time = String(t);
  if (hidden) {
    li.append(
      el('p', { className: 'msg-hidden-line' }, [
        el('span', { text: 'Message from a person you muted' }),
        ' ',
        el('button', { className: 'msg-tool msg-show', attrs: { type: 'button', 'data-action': 'reveal' } }, [
          'Show',
          el('span', { className: 'visually-hidden', text: ' this message' }),
        ]),
      ]),
    );
    return li;
  }
  const author = writerName(displayName(ev.author), why);
  const meta = el('div', { className: 'msg-meta' }, [
    el('span', { className: 'msg-author', text: author }),
    mine ? el('span', { className: 'msg-you', text: '(you)' }) : null,
    mutedWriter ? el('span', { className: 'msg-you', text: '(muted by you)' }) : null,
    timeNode(ev.ts),
  ]);
  li.append(meta);
  if (!removed && ev.reply_to && typeof ev.reply_to === 'object') li.append(quoteNode(ev.reply_to, { jump: true, removed: quoteRemoved, why: quoteWhy }));
  li.append(bodyNode(ev, removed, why));
  if (crisis && crisis.length) li.append(crisisCard(crisis));
  if (removed) return li;
  const bar = el('div', { className: 'msg-reactions', attrs: { role: 'group', 'aria-label': 'Reactions' } });
  li.append(bar);
  refreshReactions(li, reactions);
  const to = mine ? ' to your message' : ` to ${author}`;
  li.append(
    el('div', { className: 'msg-tools' }, [
      el('button', { className: 'msg-tool', attrs: { type: 'button', 'data-action': 'pick', 'aria-expanded': 'false' } }, [
        'React',
        el('span', { className: 'visually-hidden', text: to }),
      ]),
      el('button', { className: 'msg-tool', attrs: { type: 'button', 'data-action': 'reply' } }, [
        'Reply',
        el('span', { className: 'visually-hidden', text: to }),
      ]),
      mine
        ? null
        : el('button', { className: 'msg-tool msg-more', attrs: { type: 'button', 'data-action': 'more', 'aria-expanded': 'false', title: 'More' } }, [
            el('span', { text: '⋯', attrs: { 'aria-hidden': 'true' } }),
            el('span', { className: 'visually-hidden', text: `More for ${author}’s message` }),
          ]),
    ]),
  );
  return li;
}

function bodyNode(ev, removed, why) {
  if (removed) return el('p', { className: 'msg-body msg-tombstone', text: tombstoneText(why) });
  const p = el('p', { className: 'msg-body' });
  for (const part of linkSegments(typeof ev.body === 'string' ? ev.body : '')) {
    p.append(part.href ? el('a', { className: 'msg-link', text: part.text, attrs: { href: part.href, target: '_blank', rel: 'noopener noreferrer' } }) : part.text);
  }
  return p;
}

/**
 * The message a reply answers, as the reply carries it ({seq, author, excerpt}).
 * jump: a button that brings the original into view (data-action="jump").
 * removed: the original was erased (its excerpt is gone too: null); why: the reason, when known
 * here, else the one the quote carries (`removed`).
 */
export function quoteNode(quote, { jump = false, removed = false, why = null } = {}) {
  const gone = removed || quote.excerpt === null;
  const reason = why || quote.removed;
  const excerpt = gone ? quoteGoneText(reason) : typeof quote.excerpt === 'string' ? quote.excerpt : '';
  // Read as "In reply to Ann: So proud of you…"; the name holds all the visible text.
  const parts = [
    el('span', { className: 'visually-hidden', text: 'In reply to ' }),
    el('span', { className: 'quote-line' }, [
      el('span', { className: 'quote-author', text: writerName(displayName(quote.author), reason) }),
      ': ',
      el('span', { className: `quote-text${gone ? ' msg-tombstone' : ''}`, text: excerpt }),
    ]),
  ];
  if (!jump || gone || !Number.isInteger(quote.seq)) return el('div', { className: 'msg-quote' }, parts);
  const attrs = { type: 'button', 'data-action': 'jump', 'data-target': quote.seq, title: 'Show the original message' };
  return el('button', { className: 'msg-quote', attrs }, parts);
}

/**
 * Show a message's reactions (reactionSummary order): one toggle button per
 * reaction given, updated in place so a focused one keeps its focus.
 */
export function refreshReactions(li, summary) {
  const bar = li.querySelector(':scope > .msg-reactions');
  if (!bar) return;
  const existing = new Map([...bar.children].map((b) => [b.dataset.emoji, b]));
  let cursor = bar.firstElementChild;
  for (const r of summary) {
    let button = existing.get(r.key);
    existing.delete(r.key);
    if (!button) {
      button = el('button', { className: 'reaction', attrs: { type: 'button', 'data-action': 'toggle', 'data-emoji': r.key } }, [
        el('span', { className: 'reaction-emoji', text: r.emoji, attrs: { 'aria-hidden': 'true' } }),
        el('span', { className: 'reaction-count', attrs: { 'aria-hidden': 'true' } }),
      ]);
    }
    button.setAttribute('aria-pressed', r.mine ? 'true' : 'false');
    button.setAttribute('aria-label', reactionLabel(r));
    const people = r.mine ? ['you', ...r.people] : r.people;
    button.title = people.join(', ');
    button.querySelector('.reaction-count').textContent = String(r.count);
    if (button === cursor) cursor = cursor.nextElementSibling;
    else bar.insertBefore(button, cursor);
  }
  for (const gone of existing.values()) {
    if (gone.contains(document.activeElement)) li.querySelector('[data-action="pick"]')?.focus();
    gone.remove();
  }
  bar.hidden = summary.length === 0;
}

/** "Heart, 2 people, including you" */
export function reactionLabel(r) {
  const people = r.count === 1 ? '1 person' : `${r.count} people`;
  return `${r.name}, ${people}${r.mine ? (r.count === 1 ? ', you' : ', including you') : ''}`;
}

/** A small system line (membership changes). */
export function systemNode(ev) {
  let text;
  if (ev.type === 'member_added') {
    const who = displayName(ev.user);
    text = ev.role === 'moderator' ? `${who} joined as a moderator` : `${who} joined the room`;
  } else if (ev.type === 'member_changed') {
    const who = displayName(ev.user);
    const as = { reader: 'can now read here but not post', moderator: 'is now a moderator', member: 'can post here again' };
    text = `${who} ${as[ev.role] || 'has a new role'}`;
  } else if (ev.type === 'member_removed') {
    text = `${displayName(ev.user)} left the room`;
  } else {
    return null;
  }
  const li = el('li', { className: 'msg-system', attrs: { 'data-seq': ev.seq } }, [el('span', { text })]);
  const at = Date.parse(ev.ts);
  if (!Number.isNaN(at)) li.dataset.time = String(at);
  const t = timeNode(ev.ts);
  if (t) li.append(' · ', t);
  return li;
}

let crisisCards = 0;

/**
 * The support card shown privately to a person whose message sounded like a
 * crisis (a `crisis_resources` frame reaches only their own sockets), under
 * their message or their message waiting for review (held): kind and calm,
 * the resources from config/, and a way to put it away ("Get help now" keeps
 * them one tap away after that).
 */
export function crisisCard(resources, { held = false } = {}) {
  const id = `crisis-card-${++crisisCards}`;
  return el('section', { className: 'crisis-card', attrs: { 'aria-labelledby': id } }, [
    el('h3', { className: 'crisis-title', text: CRISIS_TITLE, attrs: { id } }),
    el('p', { className: 'crisis-intro', text: held ? CRISIS_INTRO_HELD : CRISIS_INTRO }),
    el('ul', { className: 'resource-list crisis-resources' }, resources.map(resourceNode)),
    el('div', { className: 'crisis-actions' }, [
      el('button', { className: 'btn btn-quiet btn-small', text: 'Hide this', attrs: { type: 'button', 'data-action': 'dismiss-crisis' } }),
    ]),
  ]);
}

/**
 * A crisis resource (help dialog, unmonitored rooms, the private card after a
 * crisis): its contact is a link when it is a phone number, a text line or a
 * web address, and "Call or text 988" also offers "Text 988".
 */
export function resourceNode(res) {
  const li = el('li', { className: 'resource' });
  li.append(el('p', { className: 'resource-name', text: typeof res.name === 'string' ? res.name : '' }));
  const contact = typeof res.contact === 'string' ? res.contact.trim() : '';
  if (contact) {
    const href = contactHref(contact) || textHref(contact);
    li.append(
      href
        ? el('a', { className: 'resource-contact', text: contact, attrs: { href, ...(href.startsWith('http') ? { target: '_blank', rel: 'noopener noreferrer' } : {}) } })
        : el('p', { className: 'resource-contact', text: contact }),
    );
    const sms = href && href.startsWith('tel:') ? textHref(contact) : null;
    if (sms) li.append(el('a', { className: 'resource-text', text: `Text ${sms.slice(4)}`, attrs: { href: sms } }));
  }
  if (typeof res.description === 'string' && res.description.trim()) {
    li.append(el('p', { className: 'resource-description', text: res.description }));
  }
  return li;
}

/**
 * A safe link for a contact: an http(s) URL, or a phone number as tel:
 * ("1-800-662-4357", "Call 911", "Call or text 988"). Anything else stays text.
 */
export function contactHref(contact) {
  if (/^https?:\/\/\S+$/i.test(contact)) return httpHref(contact);
  const m = /^(?:(?:call|phone|dial)(?: or text)?:?\s+)?(\+?[0-9][0-9 ().-]{1,20})$/i.exec(contact);
  if (!m) return null;
  const digits = m[1].replace(/[^0-9+]/g, '');
  return digits.replace(/\+/g, '').length >= 3 ? `tel:${digits}` : null;
}

/**
 * An sms: link for a contact that can be texted: "Text HOME to 741741"
 * (sms:741741?body=HOME), "Call or text 988" (sms:988). Otherwise null.
 */
export function textHref(contact) {
  const word = /^text\s+([A-Za-z0-9]{1,20})\s+to\s+(\+?[0-9][0-9 -]{1,14}[0-9])$/i.exec(contact);
  if (word) return `sms:${word[2].replace(/[^0-9+]/g, '')}?body=${encodeURIComponent(word[1])}`;
  const both = /^(?:call or text|text)\s+(\+?[0-9][0-9 -]{1,14}[0-9]|[0-9]{3,})$/i.exec(contact);
  return both ? `sms:${both[1].replace(/[^0-9+]/g, '')}` : null;
}
