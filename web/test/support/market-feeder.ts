/**
 * Stands in for the simulator -> producer -> aggregator pipeline in the page's tests:
 * writes, into a database that has the project's schema, the rows that pipeline writes.
 * History first, then every `intervalMs` new trades, the open windows rewritten (and
 * closed ones once more as final), and a diff of each book.
 *
 * Anything that returns a `MarketSource` for the same database can replace it.
 */
import { createClient } from '@clickhouse/client';
import { SyntheticMarket } from './synthetic-market.js';

export interface MarketSource {
  /** The symbols data flows for. */
  symbols: string[];
  /** Rows written so far, per table. */
  written(): Record<'trades' | 'trade_windows' | 'orderbook_updates', number>;
  /** Stops writing (idempotent). */
  stop(): Promise<void>;
}

export interface MarketFeederOptions {
  url: string;
  database: string;
  /** Symbol -> starting price. */
  symbols: Record<string, number>;
  intervalMs?: number;
  /** Closed windows written before live data starts. */
  historyMs?: number;
  seed?: number;
}

export async function startMarketFeeder(options: MarketFeederOptions): Promise<MarketSource> {
  const client = createClient({ url: options.url, database: options.database });
  const intervalMs = options.intervalMs ?? 500;
  const counts = { trades: 0, trade_windows: 0, orderbook_updates: 0 };
  const insert = async (table: keyof typeof counts | 'orderbook_snapshots', values: object[]) => {
    if (values.length === 0) return;
    await client.insert({ table, values, format: 'JSONEachRow' });
    if (table !== 'orderbook_snapshots') counts[table] += values.length;
  };

  const now = Date.now();
  const markets = Object.entries(options.symbols).map(
    ([symbol, price], i) => new SyntheticMarket(symbol, price, (options.seed ?? 7) + i),
  );
  const liveFrom = now - (now % 10_000);
  for (const market of markets) {
    await insert('trade_windows', market.history(liveFrom - (options.historyMs ?? 3600_000), liveFrom));
    await insert('orderbook_snapshots', market.snapshot(now));
  }

  let last = now;
  let stopped = false;
  let failure: unknown;
  let closed: Promise<void> | undefined;
  const tick = async () => {
    const at = Date.now();
    for (const market of markets) {
      const trades = market.trades(last, at);
      await insert('trades', trades);
      await insert('trade_windows', market.windows(trades, at));
      await insert('orderbook_updates', market.diff(at));
    }
    last = at;
  };
  await tick();
  const loop = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      if (stopped) break;
      await tick().catch((error: unknown) => {
        failure = error;
        stopped = true;
      });
    }
  })();

  return {
    symbols: markets.map((m) => m.symbol),
    written: () => ({ ...counts }),
    stop() {
      stopped = true;
      closed ??= loop.then(async () => {
        await client.close();
        if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
      });
      return closed;
    },
  };
}
