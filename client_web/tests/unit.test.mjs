// Unit tests for the pure client modules (no browser needed):
//   node client_web/tests/unit.test.mjs
import assert from 'node:assert/strict';
import * as R from '../js/room.js';
import { Outbox, newClientId } from '../js/outbox.js';
import * as F from '../js/format.js';
import { backoffDelay, wsUrl } from '../js/socket.js';

const m = (seq, extra = {}) => ({ type: 'message', room: 1, seq, body: `b${seq}`, author: { id: 1, display_name: 'A' }, ts: '2024-01-01T00:00:00Z', ...extra });

// latest page
let r = R.createRoom({ id: 1, name: 'x', kind: 'group', last_seq: 100 });
let added = R.applyLatestPage(r, [m(53), m(51), m(52)], true);
assert.deepEqual(added.map(e => e.seq), [51, 52, 53]);
assert.equal(r.lastSeq, 53); assert.equal(r.firstSeq, 51); assert.equal(r.hasMoreBefore, true);
// live: duplicate, next, gap
assert.equal(R.applyLive(r, m(53)).added, null);
assert.equal(R.applyLive(r, m(10)).added, null);
let res = R.applyLive(r, m(54)); assert.equal(res.added.seq, 54); assert.equal(res.gap, false); assert.equal(r.lastSeq, 54);
res = R.applyLive(r, m(57)); assert.equal(res.added.seq, 57); assert.equal(res.gap, true); assert.equal(r.lastSeq, 54);
assert.equal(R.applyLive(r, m(57)).added, null);
// gap page
added = R.applyAfterPage(r, [m(55), m(56), m(57)], false);
assert.deepEqual(added.map(e => e.seq), [55, 56]); assert.equal(r.lastSeq, 57); assert.equal(R.hasGap(r), false);
// before page: only older
added = R.applyBeforePage(r, [m(49), m(50), m(51)], false);
assert.deepEqual(added.map(e => e.seq), [49, 50]); assert.equal(r.firstSeq, 49); assert.equal(r.hasMoreBefore, false);
assert.deepEqual(R.heldEvents(r).map(e => e.seq), [49,50,51,52,53,54,55,56,57]);
// redaction
R.applyLive(r, { type: 'redacted', room: 1, seq: 58, target: 52 });
assert.equal(R.isRemoved(r, r.events.get(52)), true); assert.equal(R.isRemoved(r, r.events.get(53)), false);
// empty room then live from 1
r = R.createRoom({ id: 'abc' });
R.applyLatestPage(r, [], false); assert.equal(r.lastSeq, 0); assert.equal(r.firstSeq, null);
R.applyLive(r, m(1)); assert.equal(r.lastSeq, 1); assert.equal(r.firstSeq, 1);
// after page that cannot fill a hole closes it when has_more false
r = R.createRoom({ id: 2 }); R.applyLatestPage(r, [m(1)], false); R.applyLive(r, m(3));
R.applyAfterPage(r, [m(3)], false); assert.equal(r.lastSeq, 3);
// after page with has_more: lastSeq = max returned
r = R.createRoom({ id: 2 }); R.applyLatestPage(r, [m(1)], false);
R.applyAfterPage(r, [m(2), m(3)], true); assert.equal(r.lastSeq, 3);
assert.equal(R.isBehind(r, 5), true); assert.equal(R.isBehind(r, 3), false);

// outbox
const o = new Outbox();
const e1 = o.add('1', 1, 'hi', 'c1'); o.add('1', 1, 'yo', 'c2'); o.add('2', 2, 'z', 'c3');
assert.equal(o.unacked().length, 3);
o.markSent('c1', 1000); assert.deepEqual(o.stale(20000, 15000).map(e => e.clientId), ['c1']);
o.markAcked('c1', 5); assert.equal(o.unacked().length, 2);
o.markFailed('c1', { code: 'x' }); assert.equal(o.get('c1').status, 'acked'); // acked never fails
o.markFailed('c2', { code: 'rate_limited' }); assert.equal(o.get('c2').status, 'failed');
o.markRetrying('c2'); assert.equal(o.get('c2').status, 'sending');
assert.deepEqual(o.forRoom('1').map(e => e.clientId), ['c1', 'c2']);
assert.match(newClientId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

// format
assert.equal(F.typingText(['Ana']), 'Ana is typing…');
assert.equal(F.typingText(['Ana', 'Ben']), 'Ana and Ben are typing…');
assert.equal(F.typingText(['a','b','c','d']), 'Several people are typing…');
assert.equal(F.presenceText([{ id: 1, display_name: 'Me' }, { id: 2, display_name: 'Ben' }], 1), 'Online now: you and Ben');
assert.equal(F.presenceText([], 1), '');
assert.match(F.friendlyError('rate_limited', 3), /3 seconds/);
assert.equal(F.displayName(null), 'Deleted user');
for (let i = 0; i < 30; i++) { const d = backoffDelay(i); const cap = Math.min(30000, 1000 * 2 ** i); assert.ok(d >= cap / 2 && d <= cap, `${i} ${d}`); }
assert.equal(wsUrl({ protocol: 'https:', host: 'x.org' }), 'wss://x.org/ws');
assert.equal(wsUrl({ protocol: 'http:', host: '127.0.0.1:8765' }), 'ws://127.0.0.1:8765/ws');
// contact links in the help dialog
const { contactHref } = await import('../js/render.js');
assert.equal(contactHref('Call or text 988'), 'tel:988');
assert.equal(contactHref('Call 911'), 'tel:911');
assert.equal(contactHref('1-800-662-4357'), 'tel:18006624357');
assert.equal(contactHref('Text HOME to 741741'), null);
assert.equal(contactHref('https://988lifeline.org/chat'), 'https://988lifeline.org/chat');
assert.equal(contactHref('javascript:alert(1)'), null);
assert.equal(contactHref('+44 116 123'), 'tel:+44116123');
console.log('client_web unit tests: all ok');
