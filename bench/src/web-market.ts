/**
 * The rows the pipeline would write for a few busy symbols, written straight into
 * ClickHouse for the web load step: a day of closed 10 s windows, a 200-level book each,
 * then every `tickMs` new trades, the open window rewritten (and closed ones once more
 * as final) and a diff of each book. Deterministic for a seed; no Kafka, no aggregator,
 * so the machine's CPU goes to the web server and its clients.
 */
import { createClient } from '@clickhouse/client';

const windowMs = 10_000;
const bookLevels = 200;

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

const cents = (n: number): number => Math.round(n * 100) / 100;

interface Window {
  symbol: string;
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
  is_final: 0 | 1;
  version: number;
}

/** Final rows above open ones, then by trade count, as the schema expects. */
const version = (trades: number, final: boolean): number => (final ? 2 ** 32 : 0) + trades;

class SymbolMarket {
  private readonly rand: () => number;
  private nextTradeId = 1;
  private nextUpdateId = 1;
  private open: Window | undefined;

  constructor(
    readonly symbol: string,
    private price: number,
    seed: number,
  ) {
    this.rand = random(seed);
  }

  private step(): number {
    this.price = Math.max(0.01, cents(this.price * (1 + (this.rand() - 0.5) * 0.001)));
    return this.price;
  }

  /** Closed windows for `[fromMs, toMs)`, without trades behind them. */
  history(fromMs: number, toMs: number): Window[] {
    const rows: Window[] = [];
    for (let start = fromMs - (fromMs % windowMs); start < toMs; start += windowMs) {
      const open = this.price;
      const path = [open, this.step(), this.step(), this.step()];
      const trades = 5 + Math.floor(this.rand() * 40);
      const volume = cents(trades * (0.05 + this.rand()));
      const first = this.nextTradeId;
      this.nextTradeId += trades;
      rows.push({
        symbol: this.symbol,
        window_start: start / 1000,
        open,
        high: Math.max(...path),
        low: Math.min(...path),
        close: this.price,
        volume,
        quote_volume: cents(volume * open),
        vwap: open,
        trades,
        buy_volume: cents(volume / 2),
        sell_volume: cents(volume / 2),
        first_trade_id: first,
        last_trade_id: this.nextTradeId - 1,
        is_final: 1,
        version: version(trades, true),
      });
    }
    return rows;
  }

  snapshot(nowMs: number): object[] {
    const id = this.nextUpdateId++;
    return Array.from({ length: 2 * bookLevels }, (_, i) => {
      const bid = i < bookLevels;
      const k = bid ? i : i - bookLevels;
      return {
        symbol: this.symbol,
        last_update_id: id,
        snapshot_time_ms: nowMs,
        side: bid ? 'bid' : 'ask',
        price: cents(bid ? this.price - 0.01 * (k + 1) : this.price + 0.01 * (k + 1)),
        qty: cents(0.1 + this.rand() * 5),
      };
    });
  }

  /** What the pipeline writes after the trades of `(fromMs, toMs]`. */
  tick(fromMs: number, toMs: number): { trades: object[]; windows: Window[]; updates: object[] } {
    const trades: object[] = [];
    const windows: Window[] = [];
    const count = 1 + Math.floor(this.rand() * 4);
    for (let i = 1; i <= count; i++) {
      const time = Math.round(fromMs + ((toMs - fromMs) * i) / count);
      const price = this.step();
      const qty = cents(0.01 + this.rand() * 2);
      const buyerMaker = this.rand() < 0.5;
      const id = this.nextTradeId++;
      trades.push({
        symbol: this.symbol,
        trade_id: id,
        price,
        qty,
        trade_time_ms: time,
        event_time_ms: time,
        is_buyer_maker: buyerMaker ? 1 : 0,
      });
      const start = time - (time % windowMs);
      if (this.open && this.open.window_start !== start / 1000) {
        windows.push({ ...this.open, is_final: 1, version: version(this.open.trades, true) });
        this.open = undefined;
      }
      const w = (this.open ??= {
        symbol: this.symbol,
        window_start: start / 1000,
        open: price,
        high: price,
        low: price,
        close: price,
        volume: 0,
        quote_volume: 0,
        vwap: price,
        trades: 0,
        buy_volume: 0,
        sell_volume: 0,
        first_trade_id: id,
        last_trade_id: id,
        is_final: 0,
        version: 0,
      });
      w.high = Math.max(w.high, price);
      w.low = Math.min(w.low, price);
      w.close = price;
      w.volume += qty;
      w.quote_volume += qty * price;
      w.vwap = w.quote_volume / w.volume;
      w.trades++;
      if (buyerMaker) w.sell_volume += qty;
      else w.buy_volume += qty;
      w.last_trade_id = id;
      w.version = version(w.trades, false);
    }
    if (this.open) windows.push({ ...this.open });
    const first = this.nextUpdateId;
    this.nextUpdateId += 3;
    const updates = Array.from({ length: 4 }, (_, i) => {
      const bid = i % 2 === 0;
      return {
        symbol: this.symbol,
        first_update_id: first,
        last_update_id: first + 2,
        event_time_ms: toMs,
        side: bid ? 'bid' : 'ask',
        price: cents(bid ? this.price - 0.01 * (1 + i) : this.price + 0.01 * (1 + i)),
        qty: this.rand() < 0.2 ? 0 : cents(0.1 + this.rand() * 5),
      };
    });
    return { trades, windows, updates };
  }
}

export interface WebMarket {
  /** Rows written since the start, all tables. */
  written(): number;
  stop(): Promise<void>;
}

export interface WebMarketOptions {
  clickhouseUrl: string;
  database: string;
  symbols: string[];
  historyMs: number;
  tickMs: number;
  seed: number;
}

/** Writes the history and book snapshots, then keeps the market moving until stopped. */
export async function startWebMarket(options: WebMarketOptions): Promise<WebMarket> {
  const client = createClient({ url: options.clickhouseUrl, database: options.database });
  let written = 0;
  const insert = async (table: string, values: object[]) => {
    if (values.length === 0) return;
    await client.insert({ table, values, format: 'JSONEachRow' });
    written += values.length;
  };
  const now = Date.now();
  const liveFrom = now - (now % windowMs);
  const markets = options.symbols.map((symbol, i) => new SymbolMarket(symbol, 100 * (i + 1) ** 3, options.seed + i));
  await insert(
    'trade_windows',
    markets.flatMap((m) => m.history(liveFrom - options.historyMs, liveFrom)),
  );
  await insert(
    'orderbook_snapshots',
    markets.flatMap((m) => m.snapshot(now)),
  );

  let stopped = false;
  let last = now;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const ticks = markets.map((m) => m.tick(last, at));
      last = at;
      await insert(
        'trades',
        ticks.flatMap((t) => t.trades),
      );
      await insert(
        'trade_windows',
        ticks.flatMap((t) => t.windows),
      );
      await insert(
        'orderbook_updates',
        ticks.flatMap((t) => t.updates),
      );
      await new Promise((resolve) => setTimeout(resolve, options.tickMs));
    }
  })();
  return {
    written: () => written,
    async stop() {
      stopped = true;
      await loop;
      await client.close();
    },
  };
}
