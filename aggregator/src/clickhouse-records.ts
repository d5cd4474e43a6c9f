import { formatUnits, parseUnits } from '@candleflow/common/decimal';
import type { SnapshotRecord, UpdateRecord } from './orderbook-rows.js';
import { stringSize, writeInt64, writeString, writeUInt64, writeUInt8 } from './row-binary.js';
import type { TradeMessage } from './topic-messages.js';
import type { WindowRow } from './tumbling-window.js';

/**
 * Decimal fields of records are BigInt units of 10^-8 (common/decimal), which ClickHouse
 * reads exactly into Decimal(18, 8) columns: the trades and the order-book levels, many
 * rows a second, as RowBinary Int64s; the window rows as JSON numbers with all their digits.
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
  /** The trades as read, encoded at insert (tradeRowsBinary). */
  trades: TradeMessage[];
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
 * written as plain JSON numbers with all their digits.
 */
export function rowJson(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  let line = '';
  for (const name in value) {
    const field: unknown = (value as Record<string, unknown>)[name];
    line += `${line === '' ? '{' : ','}"${name}":${typeof field === 'bigint' ? formatUnits(field) : JSON.stringify(field)}`;
  }
  return line === '' ? '{}' : `${line}}`;
}

/**
 * The columns of `trades_input_v2` (String, UInt64, Decimal(18, 8) twice, UInt64 twice,
 * UInt8 twice) in the order tradeRowsBinary writes them, named in the INSERT so that a
 * column added later cannot shift them.
 */
export const TRADE_INPUT_COLUMN_NAMES =
  'symbol, trade_id, price, qty, trade_time_ms, event_time_ms, is_buyer_maker, from_rest';

/** Bytes of a trade's row past its symbol: five 64-bit columns and two UInt8. */
const TRADE_ROW_FIXED_BYTES = 5 * 8 + 2;

/**
 * Rows in RowBinary: each record's symbol (ASCII by the input contract), then what
 * `write` puts after it, `fixedBytes` per row. One buffer, sized before it is written.
 */
function rowsBinary<R extends { symbol: string }>(
  records: readonly R[],
  fixedBytes: number,
  write: (buffer: Buffer, at: number, record: R) => number,
): Buffer {
  let size = 0;
  for (const record of records) size += stringSize(record.symbol.length) + fixedBytes;
  const buffer = Buffer.allocUnsafe(size);
  let at = 0;
  for (const record of records) at = write(buffer, writeString(buffer, at, record.symbol), record);
  return buffer;
}

/** The `trades` rows of `trades` in RowBinary, in TRADE_INPUT_COLUMN_NAMES' order. */
export function tradeRowsBinary(trades: readonly TradeMessage[]): Buffer {
  return rowsBinary(trades, TRADE_ROW_FIXED_BYTES, (buffer, at, trade) => {
    at = writeUInt64(buffer, at, trade.tradeId);
    at = writeInt64(buffer, at, trade.price);
    at = writeInt64(buffer, at, trade.qty);
    at = writeUInt64(buffer, at, trade.tradeTimeMs);
    at = writeUInt64(buffer, at, trade.eventTimeMs);
    at = writeUInt8(buffer, at, trade.isBuyerMaker ? 1 : 0);
    return writeUInt8(buffer, at, trade.fromRest ? 1 : 0);
  });
}

/** Order-book sides as their Enum8 values in the input tables. */
const SIDE_CODE = { bid: 1, ask: 2 } as const;

/** The columns of `orderbook_updates_input` in the order updateRowsBinary writes them. */
export const UPDATE_INPUT_COLUMN_NAMES = 'symbol, first_update_id, last_update_id, event_time_ms, side, price, qty';

/** Bytes of an update row past its symbol: three UInt64, the Enum8 side, two Decimal64. */
const UPDATE_ROW_FIXED_BYTES = 3 * 8 + 1 + 2 * 8;

export function updateRowsBinary(records: readonly UpdateRecord[]): Buffer {
  return rowsBinary(records, UPDATE_ROW_FIXED_BYTES, (buffer, at, record) => {
    at = writeUInt64(buffer, at, record.first_update_id);
    at = writeUInt64(buffer, at, record.last_update_id);
    at = writeUInt64(buffer, at, record.event_time_ms);
    at = writeUInt8(buffer, at, SIDE_CODE[record.side]);
    at = writeInt64(buffer, at, record.price);
    return writeInt64(buffer, at, record.qty);
  });
}

/** The columns of `orderbook_snapshots_input` in the order snapshotRowsBinary writes them. */
export const SNAPSHOT_INPUT_COLUMN_NAMES = 'symbol, last_update_id, snapshot_time_ms, side, price, qty';

/** Bytes of a snapshot row past its symbol: two UInt64, the Enum8 side, two Decimal64. */
const SNAPSHOT_ROW_FIXED_BYTES = 2 * 8 + 1 + 2 * 8;

export function snapshotRowsBinary(records: readonly SnapshotRecord[]): Buffer {
  return rowsBinary(records, SNAPSHOT_ROW_FIXED_BYTES, (buffer, at, record) => {
    at = writeUInt64(buffer, at, record.last_update_id);
    at = writeUInt64(buffer, at, record.snapshot_time_ms);
    at = writeUInt8(buffer, at, SIDE_CODE[record.side]);
    at = writeInt64(buffer, at, record.price);
    return writeInt64(buffer, at, record.qty);
  });
}

/**
 * An insert of `values` into `table`'s input table in RowBinary: its columns, in writing
 * order, and its body. Undefined for `trade_windows`, whose few rows go as JSONEachRow.
 */
export function binaryInsert<T extends TableName>(
  table: T,
  values: TableRecords[T],
): { columns: string; body: Buffer } | undefined {
  switch (table) {
    case 'trades':
      return { columns: TRADE_INPUT_COLUMN_NAMES, body: tradeRowsBinary(values as TableRecords['trades']) };
    case 'orderbook_updates':
      return {
        columns: UPDATE_INPUT_COLUMN_NAMES,
        body: updateRowsBinary(values as TableRecords['orderbook_updates']),
      };
    case 'orderbook_snapshots':
      return {
        columns: SNAPSHOT_INPUT_COLUMN_NAMES,
        body: snapshotRowsBinary(values as TableRecords['orderbook_snapshots']),
      };
    default:
      return undefined;
  }
}

/** A `trades` row as JSON, with the table's column names: how a refused one goes to the DLQ. */
export function tradeRowJson(trade: TradeMessage): string {
  return rowJson({
    symbol: trade.symbol,
    trade_id: trade.tradeId,
    price: trade.price,
    qty: trade.qty,
    trade_time_ms: trade.tradeTimeMs,
    event_time_ms: trade.eventTimeMs,
    is_buyer_maker: trade.isBuyerMaker ? 1 : 0,
    from_rest: trade.fromRest ? 1 : 0,
  });
}

/** A record of `table` as JSON with the table's column names (a refused row's dead letter). */
export function recordJson<T extends TableName>(table: T, record: TableRecords[T][number]): string {
  return table === 'trades' ? tradeRowJson(record as TradeMessage) : rowJson(record);
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
