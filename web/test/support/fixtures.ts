/**
 * Fixture rows for the API tests, with the answers they must produce. Every float is a
 * short binary fraction (x.5, x.25, ...) so values survive the round trip through
 * ClickHouse exactly and results can be compared with `deepEqual`.
 */
import type { Candle, Trade } from '../../shared/api-types.js';
import type { SnapshotLevelRow, TradeRow, UpdateLevelRow, WindowRow } from './synthetic-market.js';
import { windowVersion } from './synthetic-market.js';

/** Start of BTCUSDT's first window: 2024-05-01 12:00:00 UTC. */
export const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);
export const btcWindowCount = 120;
/** BTCUSDT's latest window (index 119), which is still open. */
export const btcLatestStart = t0 + (btcWindowCount - 1) * 10_000;

function btcWindow(i: number, overrides: Partial<WindowRow> = {}): WindowRow {
  const open = 60_000 + i;
  const trades = 10 + i;
  const volume = 1 + i * 0.25;
  const vwap = open + 0.25;
  return {
    symbol: 'BTCUSDT',
    window_start: (t0 + i * 10_000) / 1000,
    open,
    high: open + 1.5,
    low: open - 1,
    close: open + 0.5,
    volume,
    quote_volume: volume * vwap,
    vwap,
    trades,
    buy_volume: volume * 0.75,
    sell_volume: volume * 0.25,
    first_trade_id: 1000 + i * 100,
    last_trade_id: 1000 + i * 100 + trades - 1,
    is_final: i === btcWindowCount - 1 ? 0 : 1,
    version: windowVersion(trades, i !== btcWindowCount - 1),
    ...overrides,
  };
}

/** Rows as the aggregator writes them: some windows first written open, then rewritten. */
export function windowRowBatches(): WindowRow[][] {
  const latest = btcWindowCount - 1;
  const early = [
    // Window 118 while it was open, and window 119 at two earlier stages.
    btcWindow(118, { close: 1, trades: 3, is_final: 0, version: windowVersion(3, false) }),
    btcWindow(latest, { close: 2, trades: 5, version: windowVersion(5, false) }),
    btcWindow(latest, { close: 3, trades: 7, version: windowVersion(7, false) }),
  ];
  const all = Array.from({ length: btcWindowCount }, (_, i) => btcWindow(i));
  return [early, all, ethWindows()];
}

/** ETHUSDT: its latest window two hours before BTCUSDT's, and a window on each side of the 24 h boundary. */
export const ethLatestStart = t0 - 2 * 3600_000;
const day = 24 * 3600_000;

function ethWindow(startMs: number, open: number, close: number): WindowRow {
  return {
    symbol: 'ETHUSDT',
    window_start: startMs / 1000,
    open,
    high: Math.max(open, close) + 0.5,
    low: Math.min(open, close) - 0.5,
    close,
    volume: 2,
    quote_volume: 2 * open,
    vwap: open,
    trades: 4,
    buy_volume: 1.5,
    sell_volume: 0.5,
    first_trade_id: 1,
    last_trade_id: 4,
    is_final: 1,
    version: windowVersion(4, true),
  };
}

function ethWindows(): WindowRow[] {
  return [
    ethWindow(ethLatestStart - day - 10_000, 1000, 1000.5),
    // Exactly 24 h before the latest window: its end is the range's start, so it is out.
    ethWindow(ethLatestStart - day, 1500, 1500.5),
    ethWindow(ethLatestStart - day + 10_000, 2000, 2050),
    ethWindow(ethLatestStart, 2050, 2100),
  ];
}

/** What `/api/windows` returns for BTCUSDT window `i` (after all rewrites). */
export function expectedBtcCandle(i: number): Candle {
  const r = btcWindow(i);
  return {
    start: r.window_start * 1000,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    quoteVolume: r.quote_volume,
    vwap: r.vwap,
    trades: r.trades,
    buyVolume: r.buy_volume,
    sellVolume: r.sell_volume,
    firstTradeId: r.first_trade_id,
    lastTradeId: r.last_trade_id,
    isFinal: r.is_final === 1,
  };
}

export function expectedSymbols() {
  const btc = Array.from({ length: btcWindowCount }, (_, i) => btcWindow(i));
  const btcLast = btc[btc.length - 1] as WindowRow;
  const btcFirst = btc[0] as WindowRow;
  return [
    {
      symbol: 'BTCUSDT',
      lastPrice: btcLast.close,
      lastWindowStart: btcLatestStart,
      open24h: btcFirst.open,
      change24h: btcLast.close - btcFirst.open,
      changePct24h: ((btcLast.close - btcFirst.open) / btcFirst.open) * 100,
      high24h: btcLast.high,
      low24h: btcFirst.low,
      volume24h: btc.reduce((sum, w) => sum + w.volume, 0),
      quoteVolume24h: btc.reduce((sum, w) => sum + w.quote_volume, 0),
    },
    {
      symbol: 'ETHUSDT',
      lastPrice: 2100,
      lastWindowStart: ethLatestStart,
      open24h: 2000,
      change24h: 100,
      changePct24h: 5,
      high24h: 2100.5,
      low24h: 1999.5,
      volume24h: 4,
      quoteVolume24h: 8100,
    },
  ];
}

/** BTCUSDT trades: ten recent ones (one delivered twice) and an old one. */
export function tradeRows(): TradeRow[] {
  const trade = (id: number, time: number, price: number, buyerMaker: 0 | 1): TradeRow => ({
    symbol: 'BTCUSDT',
    trade_id: id,
    price,
    qty: 0.5,
    trade_time_ms: time,
    event_time_ms: time + 3,
    is_buyer_maker: buyerMaker,
  });
  const recent = Array.from({ length: 10 }, (_, k) =>
    trade(12_000 + k, btcLatestStart + k * 500, 60_119 + k * 0.25, k % 2 === 0 ? 0 : 1),
  );
  return [trade(5, t0 - 60_000, 59_000, 0), ...recent, recent[recent.length - 1] as TradeRow];
}

export function expectedTrades(limit: number): Trade[] {
  const unique = tradeRows().slice(0, 11);
  return unique
    .sort((a, b) => b.trade_id - a.trade_id)
    .slice(0, limit)
    .map((t) => ({
      id: t.trade_id,
      price: t.price,
      qty: t.qty,
      time: t.trade_time_ms,
      side: t.is_buyer_maker ? 'sell' : 'buy',
    }));
}

const bookTime = btcLatestStart + 2000;

function snapshot(id: number, time: number, levels: ['bid' | 'ask', number, number][]): SnapshotLevelRow[] {
  return levels.map(([side, price, qty]) => ({
    symbol: 'BTCUSDT',
    last_update_id: id,
    snapshot_time_ms: time,
    side,
    price,
    qty,
  }));
}

function diff(first: number, last: number, time: number, levels: ['bid' | 'ask', number, number][]): UpdateLevelRow[] {
  return levels.map(([side, price, qty]) => ({
    symbol: 'BTCUSDT',
    first_update_id: first,
    last_update_id: last,
    event_time_ms: time,
    side,
    price,
    qty,
  }));
}

/** A snapshot at update id 100 and diffs around it (one before it, which must not count). */
export function bookRows(): { snapshots: SnapshotLevelRow[]; updates: UpdateLevelRow[] } {
  return {
    snapshots: snapshot(100, bookTime, [
      ['bid', 59_999.5, 1],
      ['bid', 59_999, 2],
      ['bid', 59_998, 3],
      ['ask', 60_000.5, 1.5],
      ['ask', 60_001, 2.5],
    ]),
    updates: [
      ...diff(95, 99, bookTime - 500, [['bid', 59_990, 9]]),
      ...diff(101, 102, bookTime + 100, [
        ['bid', 59_999.5, 0],
        ['ask', 60_000.5, 0.75],
      ]),
      ...diff(103, 103, bookTime + 200, [
        ['bid', 59_999.75, 4],
        ['ask', 60_002, 1],
      ]),
    ],
  };
}

export const expectedBook = {
  symbol: 'BTCUSDT',
  lastUpdateId: 103,
  updateTime: bookTime + 200,
  bids: [
    [59_999.75, 4],
    [59_999, 2],
    [59_998, 3],
  ],
  asks: [
    [60_000.5, 0.75],
    [60_001, 2.5],
    [60_002, 1],
  ],
};

/** A resync: a new snapshot at 200 (the book rebuilt from it alone), then one diff. */
export function resyncRows(): { snapshots: SnapshotLevelRow[]; updates: UpdateLevelRow[] } {
  return {
    snapshots: snapshot(200, bookTime + 5000, [
      ['bid', 59_990, 1],
      ['ask', 60_010, 2],
      ['ask', 60_011, 3],
    ]),
    updates: [
      ...diff(150, 160, bookTime + 3000, [['bid', 59_995, 7]]),
      ...diff(199, 201, bookTime + 5100, [
        ['ask', 60_010, 0],
        ['bid', 59_991, 0.5],
      ]),
    ],
  };
}

export const expectedBookAfterResync = {
  symbol: 'BTCUSDT',
  lastUpdateId: 201,
  updateTime: bookTime + 5100,
  bids: [
    [59_991, 0.5],
    [59_990, 1],
  ],
  asks: [[60_011, 3]],
};
