import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inputTable, rowJson, tradeRowJson, windowRecord, windowVersion } from '../src/clickhouse-records.js';
import { parseUnits } from '@candleflow/common/decimal';

test('rowJson writes exact decimals as plain JSON numbers with every digit', () => {
  const line = rowJson({
    symbol: 'BTCUSDT',
    price: parseUnits('0.00000001'),
    big: parseUnits('12345678.12345678'),
    n: 1e-8,
  });
  assert.equal(line, '{"symbol":"BTCUSDT","price":0.00000001,"big":12345678.12345678,"n":1e-8}');
  assert.deepEqual(JSON.parse(line), { symbol: 'BTCUSDT', price: 1e-8, big: 12345678.12345678, n: 1e-8 });
  assert.equal(rowJson([1, 'a']), '[1,"a"]');
  assert.equal(rowJson('{"a":1}'), '{"a":1}', 'a line written before passes as it is');
  assert.equal(rowJson({}), '{}');
});

test('rows are inserted through the input tables', () => {
  assert.equal(inputTable('trades'), 'trades_input_v2');
  assert.equal(inputTable('orderbook_updates'), 'orderbook_updates_input');
  assert.equal(inputTable('trade_windows'), 'trade_windows_input_v2');
});

test('a trade row keeps the exact price and quantity', () => {
  const trade = {
    symbol: 'BTCUSDT',
    tradeId: 7,
    price: parseUnits('65000.12000000'),
    qty: parseUnits('0.00150000'),
    tradeTimeMs: 1,
    isBuyerMaker: true,
  };
  assert.equal(
    tradeRowJson(trade, 2, true),
    '{"symbol":"BTCUSDT","trade_id":7,"price":65000.12,"qty":0.0015,"trade_time_ms":1,"event_time_ms":2,"is_buyer_maker":1,"from_rest":1}',
  );
});

test('window versions: final above open, then more trades above fewer', () => {
  assert.ok(windowVersion({ isFinal: true, trades: 1 }) > windowVersion({ isFinal: false, trades: 1_000_000 }));
  assert.ok(windowVersion({ isFinal: true, trades: 5 }) > windowVersion({ isFinal: true, trades: 4 }));
  assert.equal(windowVersion({ isFinal: false, trades: 3 }), 3);
  const record = windowRecord({
    symbol: 'BTCUSDT',
    windowStartMs: 1_714_521_600_000,
    open: '1.10000000',
    high: '2',
    low: '1',
    close: '1.5',
    volume: 3,
    quoteVolume: 4,
    vwap: 4 / 3,
    trades: 2,
    buyVolume: 1,
    sellVolume: 2,
    firstTradeId: 10,
    lastTradeId: 13,
    missingTrades: 2,
    isFinal: true,
  });
  assert.equal(record.window_start, 1_714_521_600);
  assert.equal(record.open, 110_000_000n);
  assert.equal(record.version, 2 ** 32 + 2);
  assert.equal(record.is_final, 1);
  assert.equal(record.missing_trades, 2);
});
