// Which parts of a message are links. Only http(s) URLs written out in full
// become links; everything else (javascript:, data:, mailto:, bare domains)
// stays text. Pure: returns segments, and the caller builds the DOM from them
// with textContent and a checked href, never markup.
//
// Where a URL ends, as people expect from chat apps: at whitespace, quotes,
// angle brackets, control and bidirectional formatting characters (an RTL
// override must not hide inside a link and reorder what it shows); without
// trailing punctuation; with a closing bracket only when it closes one opened
// inside the URL ("https://en.wikipedia.org/wiki/Foo_(bar)").

const SCHEME = /https?:\/\//giu;
const WORD_BEFORE = /[\p{L}\p{N}_]/u;
const STOPS = /[\s\p{Cc}<>"`\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/u;
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '*', '_', '~', '…', '。', '、', '，', '！', '？', '«', '»']);
const PAIRS = { ')': '(', ']': '[', '}': '{' };

/**
 * @param {string} text
 * @returns {({text: string}|{text: string, href: string})[]} in order; joined texts give back `text`
 */
export function linkSegments(text) {
  const source = typeof text === 'string' ? text : '';
  const segments = [];
  let plainFrom = 0;
  SCHEME.lastIndex = 0;
  for (let m = SCHEME.exec(source); m; m = SCHEME.exec(source)) {
    const start = m.index;
    if (start > 0 && WORD_BEFORE.test(source[start - 1])) continue;
    const candidate = trimEnd(source.slice(start, urlEnd(source, start + m[0].length)));
    const href = httpHref(candidate);
    if (!href) continue;
    if (start > plainFrom) segments.push({ text: source.slice(plainFrom, start) });
    segments.push({ text: candidate, href });
    plainFrom = start + candidate.length;
    SCHEME.lastIndex = plainFrom;
  }
  if (plainFrom < source.length) segments.push({ text: source.slice(plainFrom) });
  return segments;
}

function urlEnd(source, from) {
  let i = from;
  while (i < source.length && !STOPS.test(source[i])) i += 1;
  return i;
}

function trimEnd(candidate) {
  const counts = { '(': 0, ')': 0, '[': 0, ']': 0, '{': 0, '}': 0 };
  for (const c of candidate) if (c in counts) counts[c] += 1;
  let end = candidate.length;
  for (;;) {
    const last = candidate[end - 1];
    if (TRAILING.has(last)) {
      end -= 1;
    } else if (PAIRS[last] && counts[last] > counts[PAIRS[last]]) {
      counts[last] -= 1;
      end -= 1;
    } else {
      return candidate.slice(0, end);
    }
  }
}

/** The link target for a written http(s) URL, or null when it is not one. */
export function httpHref(written) {
  let url;
  try {
    url = new URL(written);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return null;
  return url.href;
}
