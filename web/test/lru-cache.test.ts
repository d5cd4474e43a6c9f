import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache } from '../server/lru-cache.js';

test('holds at most its capacity, dropping the least recently used', () => {
  const cache = new LruCache<string, number>(3);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  assert.equal(cache.get('a'), 1, 'a is now the most recently used');
  cache.set('d', 4);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.deepEqual([cache.get('a'), cache.get('c'), cache.get('d')], [1, 3, 4]);
});

test('setting an existing key replaces it and makes it the most recent, without growing', () => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('a', 10);
  cache.set('c', 3);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 10);
});

test('dropOldestWhile stops at the first entry to keep', () => {
  const cache = new LruCache<string, { usedAt: number }>(10);
  cache.set('old1', { usedAt: 1 });
  cache.set('old2', { usedAt: 2 });
  cache.set('new', { usedAt: 100 });
  cache.set('old3', { usedAt: 3 }); // written late: behind a fresh entry, so kept this round
  cache.dropOldestWhile((v) => v.usedAt < 50);
  assert.equal(cache.size, 2);
  assert.deepEqual(cache.oldest(), ['new', { usedAt: 100 }]);
  assert.deepEqual(cache.get('old3'), { usedAt: 3 });
});

test('oldest is the least recently used, and does not count as a use', () => {
  const cache = new LruCache<string, number>(5);
  assert.equal(cache.oldest(), undefined);
  cache.set('a', 1);
  cache.set('b', 2);
  assert.deepEqual(cache.oldest(), ['a', 1]);
  assert.deepEqual(cache.oldest(), ['a', 1]);
  cache.get('a');
  assert.deepEqual(cache.oldest(), ['b', 2]);
});

test('a capacity below one is refused', () => {
  assert.throws(() => new LruCache(0), RangeError);
});
