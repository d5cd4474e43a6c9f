import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  inputTable,
  recordJson,
  rowJson,
  tradeRowJson,
  tradeRowsBinary,
  updateRowsBinary,
  snapshotRowsBinary,
  binaryInsert,
  windowRecord,
  windowVersion,
} from '../src/clickhouse-records.js';
import { stringSize, writeString } from '../src/row-binary.js';
import type { TradeMessage } from '../src/topic-messages.js';
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
  assert.equal(rowJson({}), '{}');
});

test('rows are inserted through the input tables', () => {
  assert.equal(inputTable('trades'), 'trades_input_v2');
  assert.equal(inputTable('orderbook_updates'), 'orderbook_updates_input');
  assert.equal(inputTable('trade_windows'), 'trade_windows_input_v2');
});

const trade = (fields: Partial<TradeMessage>): TradeMessage => ({
  symbol: 'BTCUSDT',
  tradeId: 7,
  price: parseUnits('65000.12000000'),
  qty: parseUnits('0.00150000'),
  tradeTimeMs: 1,
  eventTimeMs: 2,
  isBuyerMaker: true,
  fromRest: true,
  ...fields,
});

test('a trade row keeps the exact price and quantity, as JSON for the DLQ', () => {
  assert.equal(
    tradeRowJson(trade({})),
    '{"symbol":"BTCUSDT","trade_id":7,"price":65000.12,"qty":0.0015,"trade_time_ms":1,"event_time_ms":2,"is_buyer_maker":1,"from_rest":1}',
  );
  assert.equal(recordJson('trades', trade({ fromRest: false })), tradeRowJson(trade({ fromRest: false })));
  const update = {
    symbol: 'BTCUSDT',
    first_update_id: 1,
    last_update_id: 2,
    event_time_ms: 3,
    side: 'bid' as const,
    price: 1n,
    qty: 0n,
  };
  assert.equal(
    recordJson('orderbook_updates', update),
    '{"symbol":"BTCUSDT","first_update_id":1,"last_update_id":2,"event_time_ms":3,"side":"bid","price":0.00000001,"qty":0}',
  );
});

test('trade rows in RowBinary: String, UInt64, two Int64 decimals, two UInt64, two UInt8, little-endian', () => {
  // Expected bytes from Python's struct.pack('<QqqQQBB', ...) after the length-prefixed symbol.
  const rows = tradeRowsBinary([
    trade({}),
    trade({
      symbol: 'SHIBUSDT',
      tradeId: Number.MAX_SAFE_INTEGER,
      price: 1234n,
      // Above 2^53 units: written through BigInt.
      qty: parseUnits('9999999999.99999999'),
      tradeTimeMs: 1_714_521_600_000,
      eventTimeMs: 1_714_521_600_007,
      isBuyerMaker: false,
      fromRest: false,
    }),
  ]);
  assert.equal(
    rows.toString('hex'),
    '074254435553445407000000000000000003e866e9050000f049020000000000010000000000000002000000000000000101' +
      '085348494255534454ffffffffffff1f00d204000000000000ffff63a7b3b6e00d007073318f010000077073318f0100000000',
  );
  assert.equal(tradeRowsBinary([]).length, 0);
});

test('order-book rows in RowBinary: the symbol, the update ids and time as UInt64, the side as Enum8, two Int64 decimals', () => {
  // Expected bytes from Python's struct.pack('<QQQBqq', ...) and ('<QQBqq', ...) after the length-prefixed symbol.
  const updates = updateRowsBinary([
    {
      symbol: 'BTCUSDT',
      first_update_id: 1,
      last_update_id: 2,
      event_time_ms: 1_714_521_600_000,
      side: 'bid',
      price: parseUnits('60000.12'),
      qty: 0n,
    },
    {
      symbol: 'ETHUSDT',
      first_update_id: Number.MAX_SAFE_INTEGER,
      last_update_id: Number.MAX_SAFE_INTEGER,
      event_time_ms: 3,
      side: 'ask',
      price: 1n,
      qty: parseUnits('9999999999.99999999'),
    },
  ]);
  assert.equal(
    updates.toString('hex'),
    '074254435553445401000000000000000200000000000000007073318f01000001007b95fc7405000000000000000000' +
      '000745544855534454ffffffffffff1f00ffffffffffff1f000300000000000000020100000000000000ffff63a7b3b6e00d',
  );
  const snapshots = snapshotRowsBinary([
    {
      symbol: 'BTCUSDT',
      last_update_id: 42,
      snapshot_time_ms: 1_714_521_600_000,
      side: 'ask',
      price: parseUnits('297.32'),
      qty: parseUnits('1.5'),
    },
  ]);
  assert.equal(
    snapshots.toString('hex'),
    '07425443555344542a00000000000000007073318f0100000200512aec0600000080d1f00800000000',
  );
  assert.equal(updateRowsBinary([]).length + snapshotRowsBinary([]).length, 0);
});

test("each RowBinary insert names every column of its input table, in the migrations' order; window rows stay JSONEachRow", () => {
  const dir = new URL('../../clickhouse/migrations/', import.meta.url);
  const sql = readdirSync(dir)
    .sort()
    .map((file) => readFileSync(new URL(file, dir), 'utf8'))
    .join('\n');
  const columnsOf = (table: string): string => {
    const body = new RegExp(`CREATE TABLE IF NOT EXISTS ${table}\\s*\\(([\\s\\S]*?)\\n\\)\\s*ENGINE`).exec(sql)?.[1];
    assert.ok(body, `no CREATE TABLE for ${table} in the migrations`);
    // One column a line: its name, then its type (which may hold commas, as Decimal(18, 8)).
    return body
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0])
      .filter((name) => name)
      .join(', ');
  };
  const rows = {
    trades: [trade({})],
    orderbook_updates: [],
    orderbook_snapshots: [],
  } as const;
  for (const table of ['trades', 'orderbook_updates', 'orderbook_snapshots'] as const) {
    assert.equal(binaryInsert(table, [...rows[table]])?.columns, columnsOf(inputTable(table)), table);
  }
  assert.equal(binaryInsert('trade_windows', []), undefined);
});

test('RowBinary strings carry a varint length', () => {
  const text = 'A'.repeat(200);
  assert.equal(stringSize(200), 202);
  assert.equal(stringSize(127), 128);
  const buffer = Buffer.alloc(202);
  assert.equal(writeString(buffer, 0, text), 202);
  assert.equal(buffer.subarray(0, 2).toString('hex'), 'c801');
  assert.equal(buffer.subarray(2).toString('latin1'), text);
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
