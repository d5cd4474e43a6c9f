import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BookTracker } from '../server/book-tracker.js';

test('a book is its snapshot, best levels first', () => {
  const book = new BookTracker('BTCUSDT');
  assert.equal(book.hasSnapshot, false);
  book.loadSnapshot(10, 1000, [
    { side: 'bid', price: 99, qty: 1 },
    { side: 'bid', price: 100, qty: 2 },
    { side: 'ask', price: 102, qty: 3 },
    { side: 'ask', price: 101, qty: 4 },
  ]);
  assert.deepEqual(book.top(10), {
    bids: [
      [100, 2],
      [99, 1],
    ],
    asks: [
      [101, 4],
      [102, 3],
    ],
  });
  assert.deepEqual([book.snapshotId, book.lastUpdateId, book.updateTime], [10, 10, 1000]);
});

test('updates set, add and remove (qty 0) levels; depth cuts each side', () => {
  const book = new BookTracker('BTCUSDT');
  book.loadSnapshot(10, 1000, [
    { side: 'bid', price: 100, qty: 2 },
    { side: 'bid', price: 99, qty: 1 },
    { side: 'ask', price: 101, qty: 4 },
  ]);
  assert.equal(
    book.applyUpdates(15, 1500, [
      { side: 'bid', price: 100, qty: 0 },
      { side: 'bid', price: 99.5, qty: 7 },
      { side: 'ask', price: 101, qty: 0.5 },
      { side: 'ask', price: 100.5, qty: 1 },
      { side: 'ask', price: 103, qty: 0 },
    ]),
    true,
  );
  assert.deepEqual(book.top(1), { bids: [[99.5, 7]], asks: [[100.5, 1]] });
  assert.deepEqual(book.top(5).asks, [
    [100.5, 1],
    [101, 0.5],
  ]);
  assert.deepEqual([book.lastUpdateId, book.updateTime, book.snapshotId], [15, 1500, 10]);
});

test('updates that do not move the book forward, or come before any snapshot, are ignored', () => {
  const book = new BookTracker('BTCUSDT');
  assert.equal(book.applyUpdates(5, 1, [{ side: 'bid', price: 1, qty: 1 }]), false);
  book.loadSnapshot(10, 1000, [{ side: 'bid', price: 100, qty: 2 }]);
  assert.equal(book.applyUpdates(10, 1100, [{ side: 'bid', price: 100, qty: 0 }]), false);
  assert.equal(book.applyUpdates(9, 1100, [{ side: 'bid', price: 100, qty: 0 }]), false);
  assert.deepEqual(book.top(5).bids, [[100, 2]]);
});

test('a new snapshot replaces everything', () => {
  const book = new BookTracker('BTCUSDT');
  book.loadSnapshot(10, 1000, [{ side: 'bid', price: 100, qty: 2 }]);
  book.applyUpdates(12, 1100, [{ side: 'ask', price: 101, qty: 1 }]);
  book.loadSnapshot(20, 2000, [{ side: 'ask', price: 105, qty: 9 }]);
  assert.deepEqual(book.top(5), { bids: [], asks: [[105, 9]] });
  assert.deepEqual([book.snapshotId, book.lastUpdateId, book.updateTime], [20, 20, 2000]);
});

test('levels are keyed by their decimal text, so 1e-7 and 0.0000001 are one level', () => {
  const book = new BookTracker('SHIBUSDT');
  book.loadSnapshot(1, 0, [{ side: 'bid', price: 1e-7, qty: 5 }]);
  book.applyUpdates(2, 0, [{ side: 'bid', price: 0.0000001, qty: 0 }]);
  assert.deepEqual(book.top(5).bids, []);
});
