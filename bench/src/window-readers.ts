import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { NAIVE_TRADES_TABLE, SPARK_WINDOWS_TABLE, kafkaPeerTables, type KafkaPeerVariant } from './peer-tables.js';
import { SPARK_PROBE_SYMBOL } from './spark-probe.js';
import type { BenchWindow } from './window-compare.js';

/** The implementations the bench runs on the same topic. */
export type Implementation = 'project' | 'kafkaEngine' | 'kafkaEngineWindowsOnly' | 'naive' | 'spark';

const kafkaVariant = (implementation: 'kafkaEngine' | 'kafkaEngineWindowsOnly'): KafkaPeerVariant =>
  implementation === 'kafkaEngine' ? 'fair' : 'windows-only';

// ClickHouse's JSON gives UInt64 as strings and Float64/Decimal text as numbers or strings.
const num = z.coerce.number();

const windowRowSchema = z.object({
  symbol: z.string(),
  start: num,
  open: num,
  high: num,
  low: num,
  close: num,
  volume: num,
  quote_volume: num,
  buy_volume: num,
  sell_volume: num,
  trades: num,
  first_trade_id: num,
  last_trade_id: num,
});

function toWindow(raw: unknown): BenchWindow {
  const row = windowRowSchema.parse(raw);
  return {
    symbol: row.symbol,
    windowStartMs: row.start * 1000,
    open: row.open,
    high: row.high,
    low: row.low,
    close: row.close,
    volume: row.volume,
    quoteVolume: row.quote_volume,
    buyVolume: row.buy_volume,
    sellVolume: row.sell_volume,
    trades: row.trades,
    firstTradeId: row.first_trade_id,
    lastTradeId: row.last_trade_id,
  };
}

/** Prices leave ClickHouse as text (shortest round-trip form) so that they parse to the exact same double. */
function windowsQuery(implementation: Implementation, windowSeconds: number): string {
  switch (implementation) {
    case 'project':
      return `SELECT symbol, toUInt32(window_start) AS start,
          toString(open) AS open, toString(high) AS high, toString(low) AS low, toString(close) AS close,
          volume, quote_volume, buy_volume, sell_volume, trades, first_trade_id, last_trade_id
        FROM trade_windows FINAL`;
    case 'kafkaEngine':
    case 'kafkaEngineWindowsOnly':
      // Inner names differ from the columns: ClickHouse resolves an alias before a column of the same name.
      return `SELECT symbol, start, o AS open, h AS high, l AS low, c AS close,
          toFloat64(v) AS volume, toFloat64(qv) AS quote_volume, toFloat64(b) AS buy_volume,
          toFloat64(v - b) AS sell_volume, n AS trades, first AS first_trade_id, last AS last_trade_id
        FROM (
          SELECT symbol, toUInt32(window_start) AS start,
            toString(argMinMerge(open)) AS o, toString(maxMerge(high)) AS h,
            toString(minMerge(low)) AS l, toString(argMaxMerge(close)) AS c,
            sumMerge(volume) AS v, sumMerge(quote_volume) AS qv, sumMerge(buy_volume) AS b,
            countMerge(trades) AS n, minMerge(first_trade_id) AS first, maxMerge(last_trade_id) AS last
          FROM ${kafkaPeerTables(kafkaVariant(implementation)).windows} GROUP BY symbol, window_start
        )`;
    case 'naive':
      return `SELECT symbol, intDiv(trade_time_ms, ${windowSeconds * 1000}) * ${windowSeconds} AS start,
          toString(argMin(toDecimal64(price, 8), (trade_time_ms, trade_id))) AS open,
          toString(max(toDecimal64(price, 8))) AS high, toString(min(toDecimal64(price, 8))) AS low,
          toString(argMax(toDecimal64(price, 8), (trade_time_ms, trade_id))) AS close,
          toFloat64(sum(toDecimal64(qty, 8))) AS volume,
          toFloat64(sum(toDecimal128(price, 8) * toDecimal128(qty, 8))) AS quote_volume,
          toFloat64(sum(if(is_buyer_maker = 0, toDecimal64(qty, 8), toDecimal64(0, 8)))) AS buy_volume,
          toFloat64(sum(if(is_buyer_maker = 1, toDecimal64(qty, 8), toDecimal64(0, 8)))) AS sell_volume,
          count() AS trades, min(trade_id) AS first_trade_id, max(trade_id) AS last_trade_id
        FROM ${NAIVE_TRADES_TABLE} GROUP BY symbol, start`;
    case 'spark':
      // Its latency probe's windows are not the step's.
      return `SELECT symbol, toUInt32(window_start) AS start,
          toString(open) AS open, toString(high) AS high, toString(low) AS low, toString(close) AS close,
          toFloat64(volume) AS volume, toFloat64(quote_volume) AS quote_volume,
          toFloat64(buy_volume) AS buy_volume, toFloat64(sell_volume) AS sell_volume,
          trades, first_trade_id, last_trade_id
        FROM ${SPARK_WINDOWS_TABLE} FINAL WHERE symbol != '${SPARK_PROBE_SYMBOL}'`;
  }
}

/** Every window an implementation holds, read back its own way. */
export async function readWindows(
  client: ClickHouseClient,
  implementation: Implementation,
  windowSeconds: number,
): Promise<BenchWindow[]> {
  const result = await client.query({ query: windowsQuery(implementation, windowSeconds), format: 'JSONEachRow' });
  return (await result.json<unknown>()).map(toWindow);
}

const progressRowSchema = z.object({ symbol: z.string(), start: num, last: num, final: num });

export interface WindowProgress {
  symbol: string;
  windowStartMs: number;
  lastTradeId: number;
  isFinal: boolean;
}

/** The latest trade id readable per window since `sinceMs`, and whether the window is final (the project only). */
export async function readWindowProgress(
  client: ClickHouseClient,
  implementation: 'project' | 'kafkaEngine',
  sinceMs: number,
): Promise<WindowProgress[]> {
  const since = Math.floor(sinceMs / 1000);
  const query =
    implementation === 'project'
      ? `SELECT symbol, toUInt32(window_start) AS start, max(last_trade_id) AS last, max(is_final) AS final
         FROM trade_windows WHERE window_start >= toDateTime(${since}) GROUP BY symbol, start`
      : `SELECT symbol, toUInt32(window_start) AS start, maxMerge(last_trade_id) AS last, 0 AS final
         FROM ${kafkaPeerTables('fair').windows} WHERE window_start >= toDateTime(${since}) GROUP BY symbol, start`;
  const result = await client.query({ query, format: 'JSONEachRow' });
  return (await result.json<unknown>()).map((raw) => {
    const row = progressRowSchema.parse(raw);
    return { symbol: row.symbol, windowStartMs: row.start * 1000, lastTradeId: row.last, isFinal: row.final === 1 };
  });
}
