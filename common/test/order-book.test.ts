import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OrderBook } from '../src/order-book.js';

test('a snapshot replaces the book; diffs set, change and remove levels', () => {
  const book = new OrderBook('BTCUSDT');
  book.applyDiff(5, [['1.00', '9']], []);
  book.loadSnapshot(
    10,
    [
      ['100.00', '1.5'],
      ['99.50', '2'],
    ],
    [
      ['100.50', '3'],
      ['101.00', '4'],
    ],
  );
  assert.equal(book.lastUpdateId, 10);
  assert.deepEqual(book.levels(), {
    bids: [
      ['100', '1.5'],
      ['99.5', '2'],
    ],
    asks: [
      ['100.5', '3'],
      ['101', '4'],
    ],
  });

  book.applyDiff(
    12,
    [
      ['99.50', '0.00000000'],
      ['99.90', '7.000'],
    ],
    [
      ['100.50', '2.5'],
      ['100.20', '1'],
    ],
  );
  assert.equal(book.lastUpdateId, 12);
  assert.deepEqual(book.levels(), {
    bids: [
      ['100', '1.5'],
      ['99.9', '7'],
    ],
    asks: [
      ['100.2', '1'],
      ['100.5', '2.5'],
      ['101', '4'],
    ],
  });
  assert.deepEqual(book.bestBid(), ['100', '1.5']);
  assert.deepEqual(book.bestAsk(), ['100.2', '1']);
  assert.deepEqual(book.top('ask', 2), [
    ['100.2', '1'],
    ['100.5', '2.5'],
  ]);
});

test('removing a level that is not there leaves the book unchanged', () => {
  const book = new OrderBook('X');
  book.loadSnapshot(1, [['10', '1']], []);
  book.applyDiff(2, [['9', '0']], [['11', '0']]);
  assert.deepEqual(book.levels(), { bids: [['10', '1']], asks: [] });
  assert.equal(book.bestAsk(), undefined);
});

test('prices sort numerically, not as strings', () => {
  const book = new OrderBook('X');
  book.loadSnapshot(
    1,
    [
      ['9.5', '1'],
      ['10', '1'],
      ['100', '1'],
    ],
    [
      ['1000', '1'],
      ['200', '1'],
      ['30', '1'],
    ],
  );
  assert.deepEqual(
    book.top('bid').map(([p]) => p),
    ['100', '10', '9.5'],
  );
  assert.deepEqual(
    book.top('ask').map(([p]) => p),
    ['30', '200', '1000'],
  );
});
