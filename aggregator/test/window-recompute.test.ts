import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUnits } from '@candleflow/common/decimal';
import { aggregateTrades } from '../src/tumbling-window.js';
import { recomputeWindows, storedTradesQueries, tradeFromStored, type StoredTrade } from '../src/window-recompute.js';

const T0 = 1_714_521_600_000;

test('one query reads every stored trade of the windows', () => {
  assert.deepEqual(
    storedTradesQueries(
      [
        { symbol: 'BTCUSDT', windowStartMs: T0 },
        { symbol: 'ETHUSDT', windowStartMs: T0 + 10_000 },
      ],
      10_000,
    ),
    [
      'SELECT symbol, trade_id, price, qty, trade_time_ms, is_buyer_maker FROM trades FINAL WHERE ' +
        `(symbol = 'BTCUSDT' AND trade_time_ms >= ${T0} AND trade_time_ms < ${T0 + 10_000}) OR ` +
        `(symbol = 'ETHUSDT' AND trade_time_ms >= ${T0 + 10_000} AND trade_time_ms < ${T0 + 20_000})`,
    ],
  );
});

test('many windows are split over several queries; odd symbols are refused', () => {
  const windows = Array.from({ length: 250 }, (_, i) => ({ symbol: 'BTCUSDT', windowStartMs: T0 + i * 10_000 }));
  assert.equal(storedTradesQueries(windows, 10_000).length, 3);
  assert.throws(() => storedTradesQueries([{ symbol: "X' OR 1=1 --", windowStartMs: T0 }], 10_000), /refusing/);
});

test('stored trades come back as the decimals they were written from', () => {
  // 1234567.87654321 is not a double; the column holds the nearest one.
  assert.equal(
    tradeFromStored({
      symbol: 'X',
      trade_id: 1,
      price: 1234567.87654321,
      qty: 0.1,
      trade_time_ms: 0,
      is_buyer_maker: 0,
    }).price,
    parseUnits('1234567.87654321'),
  );
  assert.deepEqual(
    tradeFromStored({
      symbol: 'BTCUSDT',
      trade_id: '425085',
      price: 13.8048,
      qty: 1e-8,
      trade_time_ms: String(T0),
      is_buyer_maker: 1,
    }),
    {
      symbol: 'BTCUSDT',
      tradeId: 425085,
      price: parseUnits('13.8048'),
      qty: parseUnits('0.00000001'),
      tradeTimeMs: T0,
      isBuyerMaker: true,
    },
  );
});

test('recomputed rows are final and equal the engine aggregate of the same trades', async () => {
  const stored: StoredTrade[] = [
    { symbol: 'BTCUSDT', trade_id: '2', price: 101, qty: 0.5, trade_time_ms: String(T0 + 20), is_buyer_maker: 0 },
    { symbol: 'BTCUSDT', trade_id: '1', price: 100, qty: 0.25, trade_time_ms: String(T0 + 10), is_buyer_maker: 1 },
  ];
  const queries: string[] = [];
  const rows = await recomputeWindows([{ symbol: 'BTCUSDT', windowStartMs: T0 }], 10_000, async (sql) => {
    queries.push(sql);
    return stored;
  });
  assert.equal(queries.length, 1);
  assert.deepEqual(rows, aggregateTrades(stored.map(tradeFromStored), 10_000, true));
  assert.equal(rows[0]?.open, '100');
  assert.equal(rows[0]?.volume, 0.75);
  assert.equal(rows[0]?.isFinal, true);
});
