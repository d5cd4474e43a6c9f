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

/** What `/api/windows` returns for a stored window row. */
export function candleOfRow(r: WindowRow): Candle {
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
    missingTrades: r.missing_trades ?? 0,
    isFinal: r.is_final === 1,
  };
}

/** What `/api/windows` returns for BTCUSDT window `i` (after all rewrites). */
export function expectedBtcCandle(i: number): Candle {
  return candleOfRow(btcWindow(i));
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

/**
 * Completeness: QUALITY_WINDOWS windows of 20 trade ids each (window i: ids 20i+1 ..
 * 20i+20, one every 500 ms), with
 * - ids 45..54 missing inside window 2, and 610..612 inside window 30: their rows say
 *   `missing_trades` 10 and 3;
 * - ids 98..102 missing across the edge of windows 4 and 5: no window row sees them;
 * - ids 205..209 of window 10 repaired over REST (`from_rest` 1, stored twice): its row
 *   was first written with 5 missing, then rewritten complete;
 * - window 0's trades and window 2's row stored twice, as re-deliveries leave them;
 * - two order-book snapshots in the windows' time, and one an hour before.
 */
export const qualityWindowCount = 36;
const idsPerWindow = 20;
export const qualityHoles = { window2: range(45, 55), edge4And5: range(98, 103), window30: range(610, 613) };
export const qualityRepaired = range(205, 210);
/** The latest window's start: the default range ends 10 s after it. */
export const qualityLatestStart = t0 + (qualityWindowCount - 1) * 10_000;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

function qualityTrade(id: number, fromRest: 0 | 1 = 0): TradeRow {
  const i = Math.floor((id - 1) / idsPerWindow);
  const k = (id - 1) % idsPerWindow;
  const time = t0 + i * 10_000 + k * 500;
  return {
    symbol: 'BTCUSDT',
    trade_id: id,
    price: 60_000 + i * 1.5 + ((k * 7) % 10) * 0.25,
    qty: 0.25 + (k % 4) * 0.25,
    trade_time_ms: time,
    event_time_ms: time + 3,
    is_buyer_maker: k % 2 === 0 ? 0 : 1,
    from_rest: fromRest,
  };
}

/** Window `i`'s row from its trades, as the aggregator writes it. */
function qualityWindow(i: number, trades: readonly TradeRow[], isFinal: boolean): WindowRow {
  const ids = trades.map((t) => t.trade_id);
  const first = Math.min(...ids);
  const last = Math.max(...ids);
  const volume = trades.reduce((sum, t) => sum + t.qty, 0);
  const quoteVolume = trades.reduce((sum, t) => sum + t.qty * t.price, 0);
  const buy = trades.reduce((sum, t) => sum + (t.is_buyer_maker ? 0 : t.qty), 0);
  const prices = trades.map((t) => t.price);
  return {
    symbol: 'BTCUSDT',
    window_start: (t0 + i * 10_000) / 1000,
    open: trades[0]?.price ?? 0,
    high: Math.max(...prices),
    low: Math.min(...prices),
    close: trades[trades.length - 1]?.price ?? 0,
    volume,
    quote_volume: quoteVolume,
    // Quarters survive ClickHouse's float parsing exactly.
    vwap: Math.round((quoteVolume / volume) * 4) / 4,
    trades: trades.length,
    buy_volume: buy,
    sell_volume: volume - buy,
    first_trade_id: first,
    last_trade_id: last,
    missing_trades: last - first + 1 - trades.length,
    is_final: isFinal ? 1 : 0,
    version: windowVersion(trades.length, isFinal),
  };
}

export function qualityRows(): {
  trades: TradeRow[];
  windows: WindowRow[];
  snapshots: SnapshotLevelRow[];
} {
  const missing = new Set(Object.values(qualityHoles).flat());
  const repaired = new Set(qualityRepaired);
  const stored = range(1, qualityWindowCount * idsPerWindow + 1)
    .filter((id) => !missing.has(id))
    .map((id) => qualityTrade(id, repaired.has(id) ? 1 : 0));
  const inWindow = (i: number) => stored.filter((t) => Math.floor((t.trade_id - 1) / idsPerWindow) === i);
  const windows = range(0, qualityWindowCount).map((i) => qualityWindow(i, inWindow(i), i < qualityWindowCount - 1));
  const beforeRepair = qualityWindow(
    10,
    inWindow(10).filter((t) => !repaired.has(t.trade_id)),
    true,
  );
  return {
    trades: [...stored, ...inWindow(0), ...stored.filter((t) => repaired.has(t.trade_id))],
    windows: [beforeRepair, ...windows, windows[2] as WindowRow],
    snapshots: [
      ...snapshot(1000, t0 + 1000, [
        ['bid', 59_999.5, 1],
        ['ask', 60_000.5, 1],
        ['ask', 60_001, 2],
      ]),
      ...snapshot(2000, t0 + 150_000, [
        ['bid', 60_200, 1],
        ['ask', 60_201, 1],
      ]),
      ...snapshot(500, t0 - 3600_000, [['bid', 59_000, 1]]),
    ],
  };
}

/** Window 2 or 30 after the ids missing inside it were fetched over REST: those trades, and its row rewritten. */
export function qualityRepairRows(i: 2 | 30): { trades: TradeRow[]; window: WindowRow } {
  const missing = i === 2 ? qualityHoles.window2 : qualityHoles.window30;
  const all = range(i * idsPerWindow + 1, (i + 1) * idsPerWindow + 1).map((id) =>
    qualityTrade(id, missing.includes(id) ? 1 : 0),
  );
  return { trades: missing.map((id) => qualityTrade(id, 1)), window: qualityWindow(i, all, true) };
}
