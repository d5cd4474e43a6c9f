import { z } from 'zod';
import type { Candle, QualityResponse, SymbolSummary, Trade } from '../shared/api-types.js';
import type { ClickhouseSource } from './clickhouse-source.js';
import { earliestTimeMs, latestTimeSlackMs } from './request-params.js';
import { at, joinSql, sql, type Sql } from './sql.js';

const dayMs = 24 * 3600_000;
const recentTradesSpanMs = 10 * 60_000;

/** Candle columns in the order `toCandle` reads them. */
const candleColumnCount = 15;

function toCandle(r: number[]): Candle {
  return {
    start: (r[0] ?? 0) * 1000,
    open: r[1] ?? 0,
    high: r[2] ?? 0,
    low: r[3] ?? 0,
    close: r[4] ?? 0,
    volume: r[5] ?? 0,
    quoteVolume: r[6] ?? 0,
    vwap: r[7] ?? 0,
    trades: r[8] ?? 0,
    buyVolume: r[9] ?? 0,
    sellVolume: r[10] ?? 0,
    firstTradeId: r[11] ?? 0,
    lastTradeId: r[12] ?? 0,
    missingTrades: r[13] ?? 0,
    isFinal: r[14] === 1,
  };
}

/** One candle's JSON from its TabSeparated line, keys as in `toCandle`. */
function candleJson(line: string): string {
  const f = line.split('\t');
  return (
    `{"start":${f[0]}000,"open":${f[1]},"high":${f[2]},"low":${f[3]},"close":${f[4]},"volume":${f[5]},` +
    `"quoteVolume":${f[6]},"vwap":${f[7]},"trades":${f[8]},"buyVolume":${f[9]},"sellVolume":${f[10]},` +
    `"firstTradeId":${f[11]},"lastTradeId":${f[12]},"missingTrades":${f[13]},"isFinal":${f[14] === '1'}}`
  );
}

const candleColumns = sql`toUInt32(window_start) AS start_s, open, high, low, close, volume, quote_volume, vwap,
  trades, buy_volume, sell_volume, first_trade_id, last_trade_id, missing_trades, is_final`;

const tradeRow = z
  .object({
    trade_id: z.number().int(),
    price: z.number(),
    qty: z.number(),
    trade_time_ms: z.number().int(),
    is_buyer_maker: z.number().int(),
  })
  .transform((r): Trade => ({
    id: r.trade_id,
    price: r.price,
    qty: r.qty,
    time: r.trade_time_ms,
    side: r.is_buyer_maker === 1 ? 'sell' : 'buy',
  }));

const tradeIdsRow = z.object({
  stored: z.number().int(),
  first_id: z.number().int(),
  last_id: z.number().int(),
  repaired: z.number().int(),
});
const countRow = z.object({ n: z.number().int() });

const latestRow = z.object({ windows: z.coerce.number().int(), last_s: z.number().int() });
const symbolLatestRow = z.object({ symbol: z.string(), last_s: z.number().int() });
/** How often a symbol's latest window is looked for in its whole history rather than from the last one seen. */
const fullCheckMs = 30_000;

const summaryRow = z.object({
  symbol: z.string(),
  last_price: z.number(),
  open_24h: z.number(),
  high_24h: z.number(),
  low_24h: z.number(),
  volume_24h: z.number(),
  quote_volume_24h: z.number(),
});

/** Start of the `windowMs` window holding `ms`. */
export function windowStartOf(ms: number, windowMs: number): number {
  return Math.floor(ms / windowMs) * windowMs;
}

/**
 * The times readers look at: from 2017 (before Binance) to a day ahead of the clock, the
 * same range the API accepts in requests. Rows outside it (a clock at 0, a far-future
 * typo) are left out, so one bad row can neither break a range computed from a
 * symbol's latest window nor become that latest window.
 */
function readableWindows(): Sql {
  return sql`window_start >= ${at(earliestTimeMs)} AND window_start <= ${at(Date.now() + latestTimeSlackMs)}`;
}

function readableTrades(): Sql {
  return sql`trade_time_ms >= ${earliestTimeMs} AND trade_time_ms <= ${Date.now() + latestTimeSlackMs}`;
}

/** Windows whose prices and volumes are numbers: one NaN would make a symbol's 24 h aggregates NaN. */
const finiteWindow = sql`isFinite(open) AND isFinite(high) AND isFinite(low) AND isFinite(close)
  AND isFinite(volume) AND isFinite(quote_volume)`;

/** Builds a symbol's summary row from its latest window start and its 24 h aggregates. */
export function toSymbolSummary(lastWindowStart: number, row: z.infer<typeof summaryRow>): SymbolSummary {
  const change = row.last_price - row.open_24h;
  return {
    symbol: row.symbol,
    lastPrice: row.last_price,
    lastWindowStart,
    open24h: row.open_24h,
    change24h: change,
    changePct24h: row.open_24h === 0 ? 0 : (change / row.open_24h) * 100,
    high24h: row.high_24h,
    low24h: row.low_24h,
    volume24h: row.volume_24h,
    quoteVolume24h: row.quote_volume_24h,
  };
}

/** Reads candles, trades and symbol summaries. Every value in SQL comes through `sql`. */
export class MarketReader {
  private readonly latest = new Map<string, { startMs: number; fullCheckAt: number }>();

  constructor(
    private readonly source: ClickhouseSource,
    /** Length of a window (ms): the aggregator's WINDOW_SECONDS. */
    readonly windowMs: number,
  ) {}

  /** Whether the symbol has any window in the readable range. */
  async hasSymbol(symbol: string): Promise<boolean> {
    const rows = await this.source.rows(
      sql`SELECT 1 AS found FROM trade_windows WHERE symbol = ${symbol} AND ${readableWindows()} LIMIT 1`,
      z.object({ found: z.number() }),
    );
    return rows.length > 0;
  }

  /**
   * Start (ms) of the symbol's latest readable window, or undefined when it has none. Once known,
   * only windows from there on are looked at (one index range instead of the symbol's
   * whole history, which matters once a second per followed symbol); every
   * `fullCheckMs` the whole symbol is read again, in case its data was replaced.
   */
  async latestWindowStart(symbol: string): Promise<number | undefined> {
    const known = this.latest.get(symbol);
    const now = Date.now();
    const bounded = known !== undefined && now - known.fullCheckAt < fullCheckMs;
    const since = bounded ? sql`AND window_start >= ${at(known.startMs)}` : sql``;
    const [row] = await this.source.rows(
      sql`SELECT count() AS windows, toUInt32(max(window_start)) AS last_s FROM trade_windows
        WHERE symbol = ${symbol} AND ${readableWindows()} ${since}`,
      latestRow,
    );
    if (row === undefined || row.windows === 0) {
      if (bounded) return known.startMs;
      this.latest.delete(symbol);
      return undefined;
    }
    const startMs = row.last_s * 1000;
    this.latest.set(symbol, { startMs, fullCheckAt: bounded ? known.fullCheckAt : now });
    return startMs;
  }

  /**
   * The windows overlapping `[fromMs, toMs)`, one row each (FINAL), oldest first, as the
   * JSON text of the API's candle array, written straight from ClickHouse's (checked)
   * number text: no conversion to numbers and back, which is most of the server's work
   * for a long range.
   */
  async windowsJson(symbol: string, fromMs: number, toMs: number): Promise<{ count: number; json: string }> {
    const lines = await this.source.numericLines(
      sql`SELECT ${candleColumns} FROM trade_windows FINAL
        WHERE symbol = ${symbol} AND ${readableWindows()}
          AND window_start >= ${at(windowStartOf(fromMs, this.windowMs))} AND window_start < ${at(toMs)}
        ORDER BY window_start`,
      candleColumnCount,
    );
    return { count: lines.length, json: `[${lines.map(candleJson).join(',')}]` };
  }

  /** The windows of the last `lookbackMs` before (and including) the symbol's latest one. */
  async recentWindows(symbol: string, lookbackMs: number): Promise<Candle[]> {
    const latest = await this.latestWindowStart(symbol);
    if (latest === undefined) return [];
    return this.windowsFrom(symbol, latest - lookbackMs);
  }

  /** Every readable window from `fromMs` on, oldest first. */
  async windowsFrom(symbol: string, fromMs: number): Promise<Candle[]> {
    const rows = await this.source.numberRows(
      sql`SELECT ${candleColumns} FROM trade_windows FINAL
        WHERE symbol = ${symbol} AND ${readableWindows()} AND window_start >= ${at(fromMs)}
        ORDER BY window_start`,
      candleColumnCount,
    );
    return rows.map(toCandle);
  }

  /**
   * The latest `limit` trades, newest first. The scan starts at the first trade of the
   * ten minutes of windows up to the symbol's latest one, and only reads all of the
   * symbol's trades when those minutes hold too few.
   */
  async latestTrades(symbol: string, limit: number): Promise<Trade[]> {
    const latest = await this.latestWindowStart(symbol);
    const query = (bounded: boolean) => {
      const bound =
        bounded && latest !== undefined
          ? // trades is ordered by (symbol, trade_time_ms, trade_id): a time bound reads one index range.
            sql`AND trade_time_ms >= ${latest - recentTradesSpanMs}`
          : sql``;
      return sql`SELECT trade_id, price, qty, trade_time_ms, is_buyer_maker FROM trades FINAL
        WHERE symbol = ${symbol} AND ${readableTrades()} ${bound}
        ORDER BY trade_id DESC LIMIT ${limit}`;
    };
    const recent = await this.source.rows(query(true), tradeRow);
    return recent.length >= limit || latest === undefined ? recent : this.source.rows(query(false), tradeRow);
  }

  /**
   * How complete the stored trades of `[fromMs, toMs)` are (see `QualityResponse`): ids
   * absent between the range's first and last stored trade, across window edges. A hole
   * before the first (or after the last) does not show from the range alone. Trades are counted by distinct id rather than read with FINAL: duplicate rows not yet
   * merged count once either way, and uniqExact needs no merge on read. Ids past 2^53
   * (no Binance id, but a row could hold one) are left out, as everywhere else.
   */
  async quality(symbol: string, fromMs: number, toMs: number): Promise<QualityResponse> {
    const [ids, windows, syncs] = await Promise.all([
      this.source.rows(
        sql`SELECT uniqExact(trade_id) AS stored, min(trade_id) AS first_id, max(trade_id) AS last_id,
            uniqExactIf(trade_id, from_rest = 1) AS repaired
          FROM trades
          WHERE symbol = ${symbol} AND trade_time_ms >= ${fromMs} AND trade_time_ms < ${toMs}
            AND trade_id <= ${Number.MAX_SAFE_INTEGER}`,
        tradeIdsRow,
      ),
      // Counted after FINAL has chosen each window's latest row: a filter on missing_trades
      // applied before it (as PREWHERE) would count a window whose hole was since repaired.
      this.source.rows(
        sql`SELECT countIf(missing_trades > 0) AS n FROM trade_windows FINAL
          WHERE symbol = ${symbol}
            AND window_start >= ${at(windowStartOf(fromMs, this.windowMs))} AND window_start < ${at(toMs)}`,
        countRow,
      ),
      this.source.rows(
        sql`SELECT uniqExact(last_update_id) AS n FROM orderbook_snapshots
          WHERE symbol = ${symbol} AND snapshot_time_ms >= ${fromMs} AND snapshot_time_ms < ${toMs}`,
        countRow,
      ),
    ]);
    // Without trades, min and max are 0 rather than absent.
    const trades = ids[0] !== undefined && ids[0].stored > 0 ? ids[0] : undefined;
    const missing = trades ? trades.last_id - trades.first_id + 1 - trades.stored : 0;
    return {
      symbol,
      from: fromMs,
      to: toMs,
      tradesStored: trades?.stored ?? 0,
      firstTradeId: trades?.first_id ?? null,
      lastTradeId: trades?.last_id ?? null,
      missingTrades: missing,
      windowsWithMissingTrades: windows[0]?.n ?? 0,
      repairedTrades: trades?.repaired ?? 0,
      depthSyncs: syncs[0]?.n ?? 0,
      complete: trades !== undefined && missing === 0,
    };
  }

  /** Every symbol with readable windows, with its last price and its change over the last 24 h of its data. */
  async symbolSummaries(): Promise<SymbolSummary[]> {
    const latest = await this.source.rows(
      sql`SELECT symbol, toUInt32(max(window_start)) AS last_s FROM trade_windows
        WHERE ${readableWindows()} GROUP BY symbol ORDER BY symbol`,
      symbolLatestRow,
    );
    if (latest.length === 0) return [];
    // One index range per symbol: its windows of the 24 h ending with its latest one.
    const ranges = latest.map((l) => sql`(symbol = ${l.symbol} AND window_start > ${at(l.last_s * 1000 - dayMs)})`);
    const rows = await this.source.rows(
      sql`SELECT symbol, argMax(close, window_start) AS last_price, argMin(open, window_start) AS open_24h,
          max(high) AS high_24h, min(low) AS low_24h, sum(volume) AS volume_24h, sum(quote_volume) AS quote_volume_24h
        FROM trade_windows FINAL
        WHERE (${joinSql(ranges, ' OR ')}) AND ${readableWindows()} AND ${finiteWindow}
        GROUP BY symbol ORDER BY symbol`,
      summaryRow,
    );
    const lastStart = new Map(latest.map((l) => [l.symbol, l.last_s * 1000]));
    return rows.map((row) => toSymbolSummary(lastStart.get(row.symbol) ?? 0, row));
  }
}
