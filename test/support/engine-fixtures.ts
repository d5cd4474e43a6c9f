/**
 * The rows the engine comparison writes: the web API tests' fixture rows
 * (web/test/support/fixtures.ts), turned into the records the aggregator inserts (exact
 * decimals for prices and quantities), plus a symbol whose decimals are the hard cases
 * of the Decimal -> Float64 conversion (migration 0002).
 */
import type { TableRecords, WindowRecord } from '@candleflow/aggregator/clickhouse-records';
import { parseUnits, unitsOfNumber } from '@candleflow/common/decimal';
import type { SnapshotRecord, UpdateRecord } from '@candleflow/aggregator/orderbook-rows';
import type { TradeMessage } from '@candleflow/aggregator/topic-messages';
import {
  bookRows,
  btcLatestStart,
  resyncRows,
  t0,
  tradeRows,
  windowRowBatches,
} from '../../web/test/support/fixtures.js';
import type { SnapshotLevelRow, TradeRow, UpdateLevelRow, WindowRow } from '../../web/test/support/synthetic-market.js';

export { btcLatestStart, t0 };

/** The fixture's floats are short binary fractions: their shortest text is the decimal they were written from. */
const exact = (value: number): bigint => unitsOfNumber(value);

function windowRecord(row: WindowRow): WindowRecord {
  return {
    ...row,
    open: exact(row.open),
    high: exact(row.high),
    low: exact(row.low),
    close: exact(row.close),
    missing_trades: row.missing_trades ?? 0,
  };
}

/** A fixture trade as the aggregator holds it for its `trades` row (tradeRowsBinary). */
function tradeRecord(row: TradeRow): TradeMessage {
  return {
    symbol: row.symbol,
    tradeId: row.trade_id,
    price: exact(row.price),
    qty: exact(row.qty),
    tradeTimeMs: row.trade_time_ms,
    eventTimeMs: row.event_time_ms,
    isBuyerMaker: row.is_buyer_maker === 1,
    fromRest: row.from_rest === 1,
  };
}

const snapshotRecord = (row: SnapshotLevelRow): SnapshotRecord => ({
  ...row,
  price: exact(row.price),
  qty: exact(row.qty),
});
const updateRecord = (row: UpdateLevelRow): UpdateRecord => ({ ...row, price: exact(row.price), qty: exact(row.qty) });

/** SOLUSDT: one final window, 10 minutes before BTCUSDT's first. */
export const solStart = t0 - 600_000;

/** Prices and quantities at the edges of Decimal(18, 8), and ones Float64 text parsing gets wrong. */
function hardDecimalTrades(): TradeMessage[] {
  const trade = (id: number, price: string, qty: string, fromRest: 0 | 1): TradeMessage => ({
    symbol: 'SOLUSDT',
    tradeId: id,
    price: parseUnits(price),
    qty: parseUnits(qty),
    tradeTimeMs: solStart + id * 1000,
    eventTimeMs: solStart + id * 1000 + 7,
    isBuyerMaker: id % 2 === 0,
    fromRest: fromRest === 1,
  });
  // Ids 3 and 5 are missing; 4 was repaired over REST.
  return [
    trade(1, '19.80043021', '0.1', 0),
    trade(2, '0.00000001', '1234.56789012', 0),
    trade(4, '9999999999.99999999', '0.00000001', 1),
    trade(6, '123.45678901', '3', 0),
  ];
}

function hardDecimalWindow(): WindowRecord {
  return {
    symbol: 'SOLUSDT',
    window_start: solStart / 1000,
    open: parseUnits('19.80043021'),
    high: parseUnits('9999999999.99999999'),
    low: parseUnits('0.00000001'),
    close: parseUnits('123.45678901'),
    volume: 0.1 + 0.2,
    quote_volume: 1 / 3,
    vwap: 2 / 3,
    trades: 4,
    buy_volume: 1e-8,
    sell_volume: 1234.56789012 + 3,
    first_trade_id: 1,
    last_trade_id: 6,
    missing_trades: 2,
    is_final: 1,
    version: 2 ** 32 + 4,
  };
}

/** Inserts in the order the web API tests make them: windows in three batches (rewrites), then the rest. */
export function fixtureInserts(): { table: keyof TableRecords; rows: object[] }[] {
  const book = bookRows();
  return [
    ...windowRowBatches().map((batch) => ({ table: 'trade_windows' as const, rows: batch.map(windowRecord) })),
    { table: 'trade_windows', rows: [hardDecimalWindow()] },
    { table: 'trades', rows: [...tradeRows().map(tradeRecord), ...hardDecimalTrades()] },
    { table: 'orderbook_snapshots', rows: book.snapshots.map(snapshotRecord) },
    { table: 'orderbook_updates', rows: book.updates.map(updateRecord) },
  ];
}

/** The resync (a newer snapshot, then a diff), inserted after the web's first book read. */
export function resyncInserts(): { table: keyof TableRecords; rows: object[] }[] {
  const resync = resyncRows();
  return [
    { table: 'orderbook_snapshots', rows: resync.snapshots.map(snapshotRecord) },
    { table: 'orderbook_updates', rows: resync.updates.map(updateRecord) },
  ];
}
