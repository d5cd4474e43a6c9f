import { unitsOfNumber } from '@candleflow/common/decimal';
import { aggregateTrades, type LateWindow, type Trade, type WindowRow } from './tumbling-window.js';

/** A `trades` row as ClickHouse returns it in JSON (UInt64 as strings). */
export interface StoredTrade {
  symbol: string;
  trade_id: string | number;
  price: number;
  qty: number;
  trade_time_ms: string | number;
  is_buyer_maker: number;
}

const WINDOWS_PER_QUERY = 100;

/** Symbols come validated from the trade schema; this keeps the SQL safe regardless. */
function symbolLiteral(symbol: string): string {
  if (!/^[A-Z0-9]{1,32}$/.test(symbol)) throw new Error(`refusing to query for symbol ${JSON.stringify(symbol)}`);
  return `'${symbol}'`;
}

/**
 * The queries that read every stored trade of the given windows (ClickHouse 18.16 has no
 * query parameters, so values are inlined; all of them are checked numbers and symbols).
 */
export function storedTradesQueries(windows: readonly LateWindow[], windowMs: number): string[] {
  const queries: string[] = [];
  for (let i = 0; i < windows.length; i += WINDOWS_PER_QUERY) {
    const conditions = windows.slice(i, i + WINDOWS_PER_QUERY).map((w) => {
      if (!Number.isSafeInteger(w.windowStartMs)) throw new Error(`bad window start ${w.windowStartMs}`);
      return `(symbol = ${symbolLiteral(w.symbol)} AND trade_time_ms >= ${w.windowStartMs} AND trade_time_ms < ${w.windowStartMs + windowMs})`;
    });
    queries.push(
      'SELECT symbol, trade_id, price, qty, trade_time_ms, is_buyer_maker FROM trades FINAL WHERE ' +
        conditions.join(' OR '),
    );
  }
  return queries;
}

export function tradeFromStored(row: StoredTrade): Trade {
  return {
    symbol: row.symbol,
    tradeId: Number(row.trade_id),
    // The Float64 columns hold the correctly rounded value of a decimal with at most 8
    // fraction digits (see migration 0002), which this recovers.
    price: unitsOfNumber(row.price),
    qty: unitsOfNumber(row.qty),
    tradeTimeMs: Number(row.trade_time_ms),
    isBuyerMaker: row.is_buyer_maker === 1,
  };
}

/** Final rows of the given windows, from all of their stored trades. */
export async function recomputeWindows(
  windows: readonly LateWindow[],
  windowMs: number,
  query: (sql: string) => Promise<StoredTrade[]>,
): Promise<WindowRow[]> {
  const trades: Trade[] = [];
  for (const sql of storedTradesQueries(windows, windowMs)) {
    for (const row of await query(sql)) trades.push(tradeFromStored(row));
  }
  return aggregateTrades(trades, windowMs, true);
}
