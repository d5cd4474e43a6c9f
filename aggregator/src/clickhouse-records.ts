import type { TradeEvent } from '@candleflow/common/binance-events';
import { ExactDecimal } from './exact-decimal.js';
import type { SnapshotRecord, UpdateRecord } from './orderbook-rows.js';
import type { WindowRow } from './tumbling-window.js';

/** A row of `trades`. */
export interface TradeRecord {
  symbol: string;
  trade_id: number;
  price: ExactDecimal;
  qty: ExactDecimal;
  trade_time_ms: number;
  event_time_ms: number;
  is_buyer_maker: 0 | 1;
  /** 1 when the producer fetched the trade over REST to fill a hole in the ids. */
  from_rest: 0 | 1;
}

/** A row of `trade_windows`; `window_start` in Unix seconds (time-zone free on insert). */
export interface WindowRecord {
  symbol: string;
  window_start: number;
  open: ExactDecimal;
  high: ExactDecimal;
  low: ExactDecimal;
  close: ExactDecimal;
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
  trades: TradeRecord[];
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

/** Prices and quantities go to Decimal(18, 8) columns: at most 10 integer and 8 fraction digits. */
export const PRICE_DIGITS = { integer: 10, fraction: 8 } as const;

/**
 * One JSONEachRow line for a record: like JSON.stringify, but exact decimals are written as
 * plain JSON numbers with all their digits, which ClickHouse reads exactly into Decimal columns.
 */
export function rowJson(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const fields = Object.entries(value).map(
    ([name, field]) =>
      `${JSON.stringify(name)}:${field instanceof ExactDecimal ? field.toString() : JSON.stringify(field)}`,
  );
  return `{${fields.join(',')}}`;
}

export function tradeRecord(event: TradeEvent, fromRest: boolean): TradeRecord {
  return {
    symbol: event.s,
    trade_id: event.t,
    price: ExactDecimal.parse(event.p),
    qty: ExactDecimal.parse(event.q),
    trade_time_ms: event.T,
    event_time_ms: event.E,
    is_buyer_maker: event.m ? 1 : 0,
    from_rest: fromRest ? 1 : 0,
  };
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
    open: ExactDecimal.parse(row.open),
    high: ExactDecimal.parse(row.high),
    low: ExactDecimal.parse(row.low),
    close: ExactDecimal.parse(row.close),
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
