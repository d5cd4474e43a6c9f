/**
 * A made-up market for one symbol, as the rows the aggregator writes: trades, 10 s
 * windows (rewritten while open, then once more final), and an order book (one
 * snapshot, then diffs). Deterministic for a given seed; no I/O.
 */

const windowMs = 10_000;

export interface TradeRow {
  symbol: string;
  trade_id: number;
  price: number;
  qty: number;
  trade_time_ms: number;
  event_time_ms: number;
  is_buyer_maker: 0 | 1;
  /** 1 when the producer fetched the trade over REST to fill a hole; omitted, ClickHouse writes 0. */
  from_rest?: 0 | 1;
}

export interface WindowRow {
  symbol: string;
  /** Seconds since the epoch (ClickHouse reads a number as a Unix time). */
  window_start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quote_volume: number;
  vwap: number;
  trades: number;
  buy_volume: number;
  sell_volume: number;
  first_trade_id: number;
  last_trade_id: number;
  /** Ids absent inside `[first_trade_id, last_trade_id]`; omitted, ClickHouse writes 0. */
  missing_trades?: number;
  is_final: 0 | 1;
  version: number;
}

export interface SnapshotLevelRow {
  symbol: string;
  last_update_id: number;
  snapshot_time_ms: number;
  side: 'bid' | 'ask';
  price: number;
  qty: number;
}

export interface UpdateLevelRow {
  symbol: string;
  first_update_id: number;
  last_update_id: number;
  event_time_ms: number;
  side: 'bid' | 'ask';
  price: number;
  qty: number;
}

/** Mulberry32: small, fast, seedable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** Version of a window row: final rows above open ones, then by trade count, as the schema expects. */
export function windowVersion(trades: number, isFinal: boolean): number {
  return (isFinal ? 2 ** 32 : 0) + trades;
}

export class SyntheticMarket {
  private readonly rand: () => number;
  private price: number;
  private nextTradeId = 1;
  private updateId = 1000;
  private readonly tick: number;
  private readonly priceDecimals: number;
  private open: { start: number; row: WindowRow } | undefined;
  private readonly bookLevels = { bid: new Map<number, number>(), ask: new Map<number, number>() };

  constructor(
    readonly symbol: string,
    startPrice: number,
    seed: number,
  ) {
    this.rand = random(seed);
    this.price = startPrice;
    this.priceDecimals = Math.max(0, 4 - Math.floor(Math.log10(startPrice)));
    this.tick = 10 ** -this.priceDecimals;
  }

  private step(volatility: number): number {
    this.price = Math.max(this.tick, round(this.price * (1 + (this.rand() - 0.5) * volatility), this.priceDecimals));
    return this.price;
  }

  /**
   * Final windows for `[fromMs, toMs)` without trades behind them: fast history. The
   * trade ids they claim are skipped, so live trades continue after them.
   */
  history(fromMs: number, toMs: number): WindowRow[] {
    const rows: WindowRow[] = [];
    for (let start = Math.floor(fromMs / windowMs) * windowMs; start < toMs; start += windowMs) {
      const open = this.price;
      const path = [open, this.step(0.002), this.step(0.002), this.step(0.002)];
      const trades = 5 + Math.floor(this.rand() * 40);
      const volume = round(trades * (0.05 + this.rand()), 4);
      const buy = round(volume * this.rand(), 4);
      const close = path[path.length - 1] ?? open;
      const vwap = round(path.reduce((a, b) => a + b, 0) / path.length, this.priceDecimals + 2);
      const first = this.nextTradeId;
      this.nextTradeId += trades;
      rows.push({
        symbol: this.symbol,
        window_start: start / 1000,
        open,
        high: Math.max(...path),
        low: Math.min(...path),
        close,
        volume,
        quote_volume: round(volume * vwap, 4),
        vwap,
        trades,
        buy_volume: buy,
        sell_volume: round(volume - buy, 4),
        first_trade_id: first,
        last_trade_id: this.nextTradeId - 1,
        is_final: 1,
        version: windowVersion(trades, true),
      });
    }
    return rows;
  }

  /** A few trades spread over `(fromMs, toMs]`. */
  trades(fromMs: number, toMs: number): TradeRow[] {
    const count = 1 + Math.floor(this.rand() * 4);
    const rows: TradeRow[] = [];
    for (let i = 1; i <= count; i++) {
      const time = Math.round(fromMs + ((toMs - fromMs) * i) / count);
      rows.push({
        symbol: this.symbol,
        trade_id: this.nextTradeId++,
        price: this.step(0.0008),
        qty: round(0.001 + this.rand() * 2, 4),
        trade_time_ms: time,
        event_time_ms: time,
        is_buyer_maker: this.rand() < 0.5 ? 1 : 0,
      });
    }
    return rows;
  }

  /**
   * Folds trades (in time order) into windows. Returns the rows to write: the open
   * window as it now stands, and every window that closed, marked final.
   */
  windows(trades: readonly TradeRow[], nowMs: number): WindowRow[] {
    const out: WindowRow[] = [];
    for (const trade of trades) {
      const start = Math.floor(trade.trade_time_ms / windowMs) * windowMs;
      if (this.open && this.open.start !== start) {
        out.push(this.finalRow(this.open.row));
        this.open = undefined;
      }
      if (!this.open) {
        this.open = {
          start,
          row: {
            symbol: this.symbol,
            window_start: start / 1000,
            open: trade.price,
            high: trade.price,
            low: trade.price,
            close: trade.price,
            volume: 0,
            quote_volume: 0,
            vwap: trade.price,
            trades: 0,
            buy_volume: 0,
            sell_volume: 0,
            first_trade_id: trade.trade_id,
            last_trade_id: trade.trade_id,
            is_final: 0,
            version: 0,
          },
        };
      }
      const row = this.open.row;
      row.high = Math.max(row.high, trade.price);
      row.low = Math.min(row.low, trade.price);
      row.close = trade.price;
      row.volume = round(row.volume + trade.qty, 8);
      row.quote_volume = round(row.quote_volume + trade.qty * trade.price, 8);
      row.vwap = round(row.quote_volume / row.volume, this.priceDecimals + 2);
      row.trades += 1;
      if (trade.is_buyer_maker) row.sell_volume = round(row.sell_volume + trade.qty, 8);
      else row.buy_volume = round(row.buy_volume + trade.qty, 8);
      row.last_trade_id = trade.trade_id;
      row.version = windowVersion(row.trades, false);
    }
    if (this.open && nowMs >= this.open.start + windowMs) {
      out.push(this.finalRow(this.open.row));
      this.open = undefined;
    } else if (this.open && trades.length > 0) {
      out.push({ ...this.open.row });
    }
    return out;
  }

  private finalRow(row: WindowRow): WindowRow {
    return { ...row, is_final: 1, version: windowVersion(row.trades, true) };
  }

  private get levelSpacing(): number {
    return this.tick * 5;
  }

  /** Price `i` levels away from the current price, on the book's grid (bids below, asks above). */
  private levelPrice(side: 'bid' | 'ask', i: number): number {
    const spacing = this.levelSpacing;
    const anchor = side === 'bid' ? Math.floor(this.price / spacing) : Math.ceil(this.price / spacing);
    return round((anchor + (side === 'bid' ? -i : i)) * spacing, this.priceDecimals);
  }

  /** A snapshot of 40 levels a side around the current price. */
  snapshot(timeMs: number): SnapshotLevelRow[] {
    this.bookLevels.bid.clear();
    this.bookLevels.ask.clear();
    const rows: SnapshotLevelRow[] = [];
    for (let i = 1; i <= 40; i++) {
      for (const side of ['bid', 'ask'] as const) {
        const price = this.levelPrice(side, i);
        const qty = round(0.1 + this.rand() * 3, 4);
        this.bookLevels[side].set(price, qty);
        rows.push({ symbol: this.symbol, last_update_id: this.updateId, snapshot_time_ms: timeMs, side, price, qty });
      }
    }
    return rows;
  }

  /**
   * One diff as the rows of one update id range: levels near the current price get new
   * quantities, levels the price moved through or far away from are removed (qty 0).
   */
  diff(timeMs: number): UpdateLevelRow[] {
    const first = this.updateId + 1;
    this.updateId += 1 + Math.floor(this.rand() * 3);
    const changes = new Map<string, UpdateLevelRow>();
    const set = (side: 'bid' | 'ask', price: number, qty: number) => {
      if (qty === 0) this.bookLevels[side].delete(price);
      else this.bookLevels[side].set(price, qty);
      changes.set(`${side}${price}`, {
        symbol: this.symbol,
        first_update_id: first,
        last_update_id: this.updateId,
        event_time_ms: timeMs,
        side,
        price,
        qty,
      });
    };
    const far = this.levelSpacing * 45;
    for (const side of ['bid', 'ask'] as const) {
      for (const price of [...this.bookLevels[side].keys()]) {
        const crossed = side === 'bid' ? price >= this.price : price <= this.price;
        if (crossed || Math.abs(price - this.price) > far) set(side, price, 0);
      }
      for (let i = 1; i <= 8; i++) {
        const price = this.levelPrice(side, i);
        if (!this.bookLevels[side].has(price) || this.rand() < 0.4) set(side, price, round(0.1 + this.rand() * 3, 4));
      }
    }
    return [...changes.values()];
  }

  /** The book the rows so far describe, best first: what a correct rebuild must produce. */
  expectedBook(depth: number): { bids: [number, number][]; asks: [number, number][] } {
    const side = (s: 'bid' | 'ask') =>
      [...this.bookLevels[s].entries()].sort((a, b) => (s === 'bid' ? b[0] - a[0] : a[0] - b[0])).slice(0, depth);
    return { bids: side('bid'), asks: side('ask') };
  }

  get lastUpdateId(): number {
    return this.updateId;
  }
}
