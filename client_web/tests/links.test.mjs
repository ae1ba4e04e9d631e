import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpHref, linkSegments } from '../js/links.js';

const links = (text) => linkSegments(text).filter((s) => s.href);
const joined = (text) => linkSegments(text).map((s) => s.text).join('');

test('http and https URLs become links; the text around them stays text', () => {
  assert.deepEqual(linkSegments('see https://example.org/a?b=1#c now'), [
    { text: 'see ' },
    { text: 'https://example.org/a?b=1#c', href: 'https://example.org/a?b=1#c' },
    { text: ' now' },
  ]);
  assert.deepEqual(links('HTTP://Example.ORG'), [{ text: 'HTTP://Example.ORG', href: 'http://example.org/' }]);
  assert.deepEqual(linkSegments('no links here'), [{ text: 'no links here' }]);
  assert.deepEqual(linkSegments(''), []);
  assert.deepEqual(linkSegments(null), []);
});

test('nothing but http(s) ever becomes a link', () => {
  for (const text of [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(document.cookie)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'mailto:someone@example.org',
    'file:///etc/passwd',
    'ftp://example.org/x',
    'www.example.org',
    'example.org/path',
    '[tap for help](javascript:alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    'https://',
    'http:// spaced.example',
    'xhttps://glued.example',
  ]) {
    assert.deepEqual(links(text), [], text);
    assert.equal(joined(text), text, text);
  }
});

test('a link inside other words only starts at a word boundary, and keeps its own target', () => {
  assert.deepEqual(links("javascript:go('https://example.org')"), [{ text: 'https://example.org', href: 'https://example.org/' }]);
  assert.deepEqual(links('<https://example.org/x>'), [{ text: 'https://example.org/x', href: 'https://example.org/x' }]);
  assert.deepEqual(links('"https://example.org/q"'), [{ text: 'https://example.org/q', href: 'https://example.org/q' }]);
});

test('trailing punctuation ends a sentence, not the URL', () => {
  for (const [text, url] of [
    ['Look: https://example.org/page.', 'https://example.org/page'],
    ['https://example.org/page, then', 'https://example.org/page'],
    ['really? https://example.org/?', 'https://example.org/'],
    ['https://example.org/wow!!!', 'https://example.org/wow'],
    ["it's at https://example.org/x'", 'https://example.org/x'],
    ['https://example.org/a…', 'https://example.org/a'],
    ['https://example.org/a:', 'https://example.org/a'],
  ]) {
    assert.deepEqual(links(text).map((s) => s.text), [url], text);
    assert.equal(joined(text), text);
  }
  assert.deepEqual(links('https://example.org/a.b/c.html').map((s) => s.text), ['https://example.org/a.b/c.html']);
});

test('brackets: a closing one stays when the URL opened it', () => {
  assert.deepEqual(links('(see https://example.org/x)').map((s) => s.text), ['https://example.org/x']);
  assert.deepEqual(links('https://en.wikipedia.org/wiki/Pain_(film)').map((s) => s.text), ['https://en.wikipedia.org/wiki/Pain_(film)']);
  assert.deepEqual(links('(https://en.wikipedia.org/wiki/Pain_(film)).').map((s) => s.text), ['https://en.wikipedia.org/wiki/Pain_(film)']);
  assert.deepEqual(links('[https://example.org/a[1]]').map((s) => s.text), ['https://example.org/a[1]']);
  assert.deepEqual(links('{https://example.org/}').map((s) => s.text), ['https://example.org/']);
});

test('bidirectional controls and invisible characters end a URL (an RTL override cannot hide in a link)', () => {
  const rlo = '\u202E';
  assert.deepEqual(links(`https://example.org/${rlo}gpj.exe`).map((s) => s.text), ['https://example.org/']);
  assert.deepEqual(links(`${rlo}https://moc.elpmaxe`).map((s) => s.text), ['https://moc.elpmaxe']);
  for (const ch of ['\u200B', '\u200E', '\u200F', '\u2066', '\u2067', '\u2068', '\u2069', '\u202A', '\u202B', '\u202C', '\u202D', '\u061C', '\uFEFF', '\u00A0', '\n', '\t']) {
    const text = `https://example.org/a${ch}b`;
    assert.deepEqual(links(text).map((s) => s.text), ['https://example.org/a'], JSON.stringify(ch));
    assert.equal(joined(text), text);
  }
});

test('several links in one message, and non-Latin text around them', () => {
  const text = 'שלום https://example.org/א וגם https://example.com/b';
  assert.deepEqual(links(text).map((s) => s.text), ['https://example.org/א', 'https://example.com/b']);
  assert.deepEqual(links('שלוםhttps://glued.example'), []);
  assert.deepEqual(links('a https://a.example b https://b.example c').map((s) => s.href), ['https://a.example/', 'https://b.example/']);
  assert.equal(joined(text), text);
});

test('a very long URL is one link, found quickly', () => {
  const url = `https://example.org/${'a'.repeat(20000)}`;
  const started = performance.now();
  assert.deepEqual(links(`${url}.`).map((s) => s.text), [url]);
  const closers = `https://example.org/${')'.repeat(20000)}`;
  assert.deepEqual(links(closers).map((s) => s.text), ['https://example.org/']);
  const many = 'https://x.example '.repeat(2000);
  assert.equal(links(many).length, 2000);
  assert.ok(performance.now() - started < 1000, 'linear, not quadratic');
});

test('httpHref: only http(s) with a host', () => {
  assert.equal(httpHref('https://example.org'), 'https://example.org/');
  assert.equal(httpHref('javascript:alert(1)'), null);
  assert.equal(httpHref('not a url'), null);
  assert.equal(httpHref('http://'), null);
});
