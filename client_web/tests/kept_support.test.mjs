// Support cards kept for this tab (kept_support.js): what a reload finds, whose it is, what
// sign-out forgets, and what a storage that refuses does (nothing breaks).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forgetSupport, keepSupport, keptSupport } from '../js/kept_support.js';

/** The part of the Storage interface the module uses, over a Map. */
class FakeStorage {
  constructor() {
    this.items = new Map();
  }
  get length() {
    return this.items.size;
  }
  key(i) {
    return [...this.items.keys()][i] ?? null;
  }
  getItem(k) {
    return this.items.has(k) ? this.items.get(k) : null;
  }
  setItem(k, v) {
    this.items.set(k, String(v));
  }
  removeItem(k) {
    this.items.delete(k);
  }
}

const line = { name: '988 Lifeline', contact: 'Call or text 988', description: 'Any time' };

test('support kept for a room comes back for the same person and room only', () => {
  const storage = new FakeStorage();
  keepSupport(storage, 7, '3', new Map([[12, [line]]]));
  assert.deepEqual([...keptSupport(storage, 7, '3')], [[12, [line]]]);
  assert.equal(keptSupport(storage, 7, '4').size, 0); // another room
  assert.equal(keptSupport(storage, 8, '3').size, 0); // another person
  assert.equal(keptSupport(storage, null, '3').size, 0); // nobody signed in yet
  assert.ok(![...storage.items.values()].some((v) => v.includes('body'))); // seqs and help lines only
});

test('hiding the last card forgets the room; sign-out forgets everyone; a new person forgets the last', () => {
  const storage = new FakeStorage();
  keepSupport(storage, 7, '3', new Map([[12, [line]]]));
  keepSupport(storage, 7, '4', new Map([[2, [line]]]));
  keepSupport(storage, 7, '3', new Map());
  assert.equal(keptSupport(storage, 7, '3').size, 0);
  assert.equal(keptSupport(storage, 7, '4').size, 1);

  keepSupport(storage, 8, '4', new Map([[5, [line]]]));
  storage.setItem('unrelated', 'kept'); // not ours: never touched
  forgetSupport(storage, 8);
  assert.equal(keptSupport(storage, 7, '4').size, 0);
  assert.equal(keptSupport(storage, 8, '4').size, 1);
  forgetSupport(storage);
  assert.deepEqual([...storage.items.keys()], ['unrelated']);
});

test('what cannot be read is not shown, and a storage that refuses breaks nothing', () => {
  const storage = new FakeStorage();
  storage.setItem('alongside.support.7.3', '{not json');
  assert.equal(keptSupport(storage, 7, '3').size, 0);
  storage.setItem('alongside.support.7.3', JSON.stringify([[0, [line]], ['x', [line]], [4, [{ name: '' }]], [5, [line]]]));
  assert.deepEqual([...keptSupport(storage, 7, '3').keys()], [5]);

  const refusing = {
    length: 1,
    key: () => {
      throw new Error('SecurityError');
    },
    getItem: () => {
      throw new Error('SecurityError');
    },
    setItem: () => {
      throw new Error('QuotaExceededError');
    },
    removeItem: () => {
      throw new Error('SecurityError');
    },
  };
  assert.equal(keptSupport(refusing, 7, '3').size, 0);
  keepSupport(refusing, 7, '3', new Map([[1, [line]]]));
  forgetSupport(refusing);
  assert.equal(keptSupport(null, 7, '3').size, 0);
});
