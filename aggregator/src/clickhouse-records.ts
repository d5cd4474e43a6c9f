import { formatUnits, parseUnits } from '@candleflow/common/decimal';
import type { SnapshotRecord, UpdateRecord } from './orderbook-rows.js';
import type { Trade, WindowRow } from './tumbling-window.js';

/**
 * Decimal fields of records are BigInt units of 10^-8 (common/decimal), written as JSON
 * numbers with all their digits, which ClickHouse reads exactly into Decimal(18, 8) columns.
 */

/** A row of `trade_windows`; `window_start` in Unix seconds (time-zone free on insert). */
export interface WindowRecord {
  symbol: string;
  window_start: number;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  volume: number;
  quote_volume: number;
  vwap: number;
  trades: number;
  buy_volume: number;
  sell_volume: number;
  first_trade_id: number;
  last_trade_id: number;
  missing_trades: number;
  is_final: 0 | 1;
  version: number;
}

/** Rows per table, in the shape each table takes them. */
export interface TableRecords {
  /** JSONEachRow lines, each written once when its message is read (tradeRowJson). */
  trades: string[];
  trade_windows: WindowRecord[];
  orderbook_snapshots: SnapshotRecord[];
  orderbook_updates: UpdateRecord[];
}

export type TableName = keyof TableRecords;

/**
 * Where each table's rows are inserted: the Null-engine input table whose materialized
 * view converts the exact Decimal prices into the table (see migrations 0002 to 0004).
 */
export function inputTable(table: TableName): string {
  return table === 'trade_windows' || table === 'trades' ? `${table}_input_v2` : `${table}_input`;
}

/**
 * One JSONEachRow line for a record: like JSON.stringify, but BigInt decimal units are
 * written as plain JSON numbers with all their digits; a string is a line written before.
 */
export function rowJson(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  let line = '';
  for (const name in value) {
    const field: unknown = (value as Record<string, unknown>)[name];
    line += `${line === '' ? '{' : ','}"${name}":${typeof field === 'bigint' ? formatUnits(field) : JSON.stringify(field)}`;
  }
  return line === '' ? '{}' : `${line}}`;
}

/** The `trades` row of a trade (symbols are `[A-Z0-9]` by the input contract: nothing to escape). */
export function tradeRowJson(trade: Trade, eventTimeMs: number, fromRest: boolean): string {
  return (
    `{"symbol":"${trade.symbol}","trade_id":${trade.tradeId},"price":${formatUnits(trade.price)},` +
    `"qty":${formatUnits(trade.qty)},"trade_time_ms":${trade.tradeTimeMs},"event_time_ms":${eventTimeMs},` +
    `"is_buyer_maker":${trade.isBuyerMaker ? 1 : 0},"from_rest":${fromRest ? 1 : 0}}`
  );
}

/**
 * Version of a window row for ReplacingMergeTree: final rows above open ones, then more
 * trades above fewer. Rows computed from the same partition prefix carry the same version
 * and the same values, so re-delivery never changes what FINAL returns.
 */
export function windowVersion(row: Pick<WindowRow, 'isFinal' | 'trades'>): number {
  return (row.isFinal ? 2 ** 32 : 0) + row.trades;
}

export function windowRecord(row: WindowRow): WindowRecord {
  return {
    symbol: row.symbol,
    window_start: row.windowStartMs / 1000,
    open: parseUnits(row.open),
    high: parseUnits(row.high),
    low: parseUnits(row.low),
    close: parseUnits(row.close),
    volume: row.volume,
    quote_volume: row.quoteVolume,
    vwap: row.vwap,
    trades: row.trades,
    buy_volume: row.buyVolume,
    sell_volume: row.sellVolume,
    first_trade_id: row.firstTradeId,
    last_trade_id: row.lastTradeId,
    missing_trades: row.missingTrades,
    is_final: row.isFinal ? 1 : 0,
    version: windowVersion(row),
  };
}
