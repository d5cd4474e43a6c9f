import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TradeLog, type Trade } from '../src/trade-log.js';

const T0 = 1_700_000_000_000;

function trade(id: number, fields: Partial<Trade> = {}): Trade {
  return { id, price: '1.00000000', qty: '1.00000000', time: T0, isBuyerMaker: false, ...fields };
}

const ids = (items: { id: number }[]): number[] => items.map((t) => t.id);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('historical: Binance items from an id (inclusive), or the latest ones', () => {
  const log = new TradeLog(10);
  log.append('BTCUSDT', trade(100, { price: '4.00000100', qty: '12.00000000', isBuyerMaker: true }));
  for (let id = 101; id <= 104; id++) log.append('BTCUSDT', trade(id));
  assert.deepEqual(log.historical('BTCUSDT', 100, 1), [
    {
      id: 100,
      price: '4.00000100',
      qty: '12.00000000',
      quoteQty: '48.00001200',
      time: T0,
      isBuyerMaker: true,
      isBestMatch: true,
    },
  ]);
  assert.deepEqual(ids(log.historical('BTCUSDT', 102, 2)), [102, 103]);
  assert.deepEqual(ids(log.historical('BTCUSDT', undefined, 2)), [103, 104]);
  assert.deepEqual(ids(log.historical('BTCUSDT', undefined, 1000)), range(100, 104));
  assert.deepEqual(log.historical('BTCUSDT', 105, 10), [], 'nothing past the newest trade');
  assert.deepEqual(ids(log.historical('BTCUSDT', 7, 3)), [100, 101, 102], 'before the first trade: from the first');
  assert.deepEqual(log.historical('ETHUSDT', undefined, 10), [], 'a symbol without trades');
});

test('the retention keeps the newest trades, and ids it dropped get an empty answer', () => {
  const log = new TradeLog(3000);
  for (let id = 1; id <= 5000; id++) log.append('BTCUSDT', trade(id, { time: T0 + id }));
  assert.deepEqual(ids(log.historical('BTCUSDT', undefined, 1000)), range(4001, 5000));
  assert.deepEqual(log.historical('BTCUSDT', 1, 1000), []);
  assert.deepEqual(log.historical('BTCUSDT', 2000, 1000), [], 'the newest dropped id');
  assert.deepEqual(ids(log.historical('BTCUSDT', 2001, 3)), [2001, 2002, 2003], 'the oldest kept id');
  assert.deepEqual(log.aggregates('BTCUSDT', { startTime: T0 + 2000, limit: 1 }), []);
  assert.deepEqual(
    log.aggregates('BTCUSDT', { startTime: T0 + 2001, limit: 1 }).map((a) => a.f),
    [2001],
  );
});

test('aggregates group consecutive trades at the same time, price and taker side', () => {
  const log = new TradeLog(100);
  const sells = { price: '2.00000000', isBuyerMaker: true };
  log.append('BTCUSDT', trade(10, { ...sells, qty: '0.10000000' }));
  log.append('BTCUSDT', trade(11, { ...sells, qty: '0.20000000' }));
  log.append('BTCUSDT', trade(12, { ...sells, qty: '0.30000000' }));
  log.append('BTCUSDT', trade(13, { price: '2.00000000' })); // the other side
  log.append('BTCUSDT', trade(14, { price: '2.10000000' })); // another price
  log.append('BTCUSDT', trade(15, { price: '2.10000000', time: T0 + 5 })); // a later time
  log.append('BTCUSDT', trade(16, { price: '2.10000000', time: T0 + 5 }));
  log.append('BTCUSDT', trade(18, { price: '2.10000000', time: T0 + 5 })); // trade 17 is not in the log
  const all = log.aggregates('BTCUSDT', { limit: 1000 });
  // Aggregate ids start at 0.7 x the first trade id, apart from trade ids.
  assert.deepEqual(all, [
    { a: 7, p: '2.00000000', q: '0.60000000', f: 10, l: 12, T: T0, m: true, M: true },
    { a: 8, p: '2.00000000', q: '1.00000000', f: 13, l: 13, T: T0, m: false, M: true },
    { a: 9, p: '2.10000000', q: '1.00000000', f: 14, l: 14, T: T0, m: false, M: true },
    { a: 10, p: '2.10000000', q: '2.00000000', f: 15, l: 16, T: T0 + 5, m: false, M: true },
    { a: 11, p: '2.10000000', q: '1.00000000', f: 18, l: 18, T: T0 + 5, m: false, M: true },
  ]);
  const as = (query: Parameters<TradeLog['aggregates']>[1]): number[] =>
    log.aggregates('BTCUSDT', query).map((a) => a.a);
  assert.deepEqual(as({ limit: 2 }), [10, 11], 'the latest aggregates');
  assert.deepEqual(as({ fromId: 8, limit: 2 }), [8, 9]);
  assert.deepEqual(as({ fromId: 12, limit: 2 }), []);
  assert.deepEqual(as({ startTime: T0 + 1, limit: 1 }), [10], 'the first aggregate at or after startTime');
  assert.deepEqual(as({ startTime: T0, limit: 1000 }), [7, 8, 9, 10, 11]);
  assert.deepEqual(as({ startTime: T0 + 6, limit: 1000 }), []);
  assert.deepEqual(as({ endTime: T0 + 4, limit: 2 }), [8, 9], 'the latest aggregates at or before endTime');
  assert.deepEqual(as({ startTime: T0, endTime: T0, limit: 1000 }), [7, 8, 9]);
  assert.deepEqual(as({ startTime: T0, endTime: T0 + 5, limit: 2 }), [7, 8]);
});

test('an aggregate that lost trades to the retention is not served', () => {
  const log = new TradeLog(3);
  for (const id of [1, 2, 3]) log.append('BTCUSDT', trade(id));
  log.append('BTCUSDT', trade(4, { time: T0 + 1 }));
  assert.deepEqual(ids(log.historical('BTCUSDT', undefined, 10)), [2, 3, 4]);
  assert.deepEqual(
    log.aggregates('BTCUSDT', { limit: 10 }).map((a) => [a.a, a.f, a.l]),
    [[1, 4, 4]],
  );
  assert.deepEqual(log.aggregates('BTCUSDT', { fromId: 0, limit: 10 }), []);
  assert.deepEqual(log.aggregates('BTCUSDT', { startTime: T0, limit: 10 }), []);
});

test('a trade id at or below the newest starts the log over (a looping replay)', () => {
  const log = new TradeLog(10);
  for (const id of [5, 6, 7]) log.append('AAAUSDT', trade(id, { time: T0 + id }));
  log.append('AAAUSDT', trade(5, { time: T0 + 100 }));
  assert.deepEqual(ids(log.historical('AAAUSDT', undefined, 10)), [5]);
  assert.deepEqual(
    log.aggregates('AAAUSDT', { limit: 10 }).map((a) => [a.a, a.f, a.T]),
    [[3, 5, T0 + 100]],
  );
});

test('a retention below one trade is refused', () => {
  assert.throws(() => new TradeLog(0), /invalid trade retention 0/);
});
