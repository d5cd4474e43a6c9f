import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TradeMessage } from '../src/topic-messages.js';
import { BatchAccumulator } from '../src/write-batch.js';

const tradeRow = (id: number): TradeMessage => ({
  symbol: 'BTCUSDT',
  tradeId: id,
  price: 100_000_000n,
  qty: 100_000_000n,
  tradeTimeMs: 0,
  isBuyerMaker: false,
  eventTimeMs: 0,
  fromRest: false,
});

test('a batch is full at batchRows, counting rows, late windows and dead letters', () => {
  const acc = new BatchAccumulator({ batchRows: 4, flushMs: 1000 }, 0);
  acc.add('trades', [tradeRow(1), tradeRow(2)]);
  acc.addLateWindows([{ symbol: 'BTCUSDT', windowStartMs: 0 }]);
  assert.equal(acc.isFull(), false);
  acc.addDlq({ sourceTopic: 't', reason: 'empty', value: null, headers: {} });
  assert.equal(acc.size, 4);
  assert.equal(acc.isFull(), true);
});

test('a batch is due flushMs after the previous cut', () => {
  const acc = new BatchAccumulator({ batchRows: 100, flushMs: 500 }, 1000);
  assert.equal(acc.isDue(1499), false);
  assert.equal(acc.isDue(1500), true);
  acc.cut([], 1600);
  assert.equal(acc.isDue(2099), false);
  assert.equal(acc.isDue(2100), true);
});

test('cut hands over everything held and starts empty', () => {
  const acc = new BatchAccumulator({ batchRows: 100, flushMs: 500 }, 0);
  acc.add('trades', [tradeRow(1)]);
  acc.addDlq({
    sourceTopic: 'binance.trades',
    reason: 'not_json',
    value: Buffer.from('x'),
    headers: { dlq_reason: 'r' },
  });
  const owner = {};
  const batch = acc.cut([{ topic: 'binance.trades', partition: 0, offset: 7, processedTo: 9, owner }], 10);
  assert.deepEqual(batch.records.trades, [tradeRow(1)]);
  assert.equal(batch.dlq.length, 1);
  assert.deepEqual(batch.offsets, [{ topic: 'binance.trades', partition: 0, offset: 7, processedTo: 9, owner }]);
  assert.equal(acc.size, 0);
  const next = acc.cut([], 20);
  assert.deepEqual(next.records, { trades: [], trade_windows: [], orderbook_snapshots: [], orderbook_updates: [] });
  assert.deepEqual(next.lateWindows, []);
});
