import { z } from 'zod';
import type { Orderbook } from '../shared/api-types.js';
import { BookTracker, type LevelRow } from './book-tracker.js';
import type { ClickhouseSource } from './clickhouse-source.js';
import { LruCache } from './lru-cache.js';
import { sql } from './sql.js';

const side = z.enum(['bid', 'ask']);
const snapshotHead = z.object({ id: z.number().int(), time_ms: z.number().int(), levels: z.number().int() });
const snapshotLevel = z.object({ side, price: z.number(), qty: z.number() });
const netChange = z.object({
  side,
  price: z.number(),
  qty: z.number(),
  through_id: z.number().int(),
  through_time_ms: z.number().int(),
});

export interface OrderbookServiceOptions {
  /** A book older than this is brought up to date before it is returned. */
  maxAgeMs?: number;
  /** Books nobody asked for in this long are dropped. */
  idleMs?: number;
  /** Books held at most (least recently asked for dropped first). */
  maxSymbols?: number;
}

interface Entry {
  tracker: BookTracker;
  checkedAt: number;
  usedAt: number;
  refreshing?: Promise<void>;
}

/**
 * Keeps the books people look at current from ClickHouse: rebuilt from the latest
 * snapshot, then moved forward by the updates that arrived since the last look.
 * ClickHouse folds a run of updates into one quantity per level (`argMax` by update id),
 * so catching up costs one aggregate query however many diffs there were.
 *
 * Only books that exist are kept (a symbol without a snapshot leaves nothing behind,
 * whatever names clients ask for), at most `maxSymbols` of them.
 */
export class OrderbookService {
  private readonly entries: LruCache<string, Entry>;
  /** First reads of books not held yet, shared by concurrent callers; gone once done. */
  private readonly loading = new Map<string, Promise<Entry | undefined>>();
  private readonly maxAgeMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly source: ClickhouseSource,
    options: OrderbookServiceOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.entries = new LruCache(options.maxSymbols ?? 200);
  }

  /** Books held in memory now. */
  get size(): number {
    return this.entries.size;
  }

  /** The top `depth` levels per side, or undefined when the symbol has no snapshot. */
  async top(symbol: string, depth: number): Promise<Orderbook | undefined> {
    const now = Date.now();
    // Least recently used first: only books that are idle are looked at.
    this.entries.dropOldestWhile((e) => now - e.usedAt > this.idleMs);
    let entry = this.entries.get(symbol);
    if (entry === undefined) {
      entry = await this.load(symbol);
      if (entry === undefined) return undefined;
    } else if (now - entry.checkedAt >= this.maxAgeMs) {
      await this.refresh(entry);
    }
    entry.usedAt = now;
    const { tracker } = entry;
    return {
      symbol,
      lastUpdateId: tracker.lastUpdateId,
      updateTime: tracker.updateTime,
      checkedAt: entry.checkedAt,
      ...tracker.top(depth),
    };
  }

  private load(symbol: string): Promise<Entry | undefined> {
    let loading = this.loading.get(symbol);
    if (loading === undefined) {
      loading = (async () => {
        const entry: Entry = { tracker: new BookTracker(symbol), checkedAt: 0, usedAt: Date.now() };
        await this.catchUp(entry);
        if (!entry.tracker.hasSnapshot) return undefined;
        this.entries.set(symbol, entry);
        return entry;
      })().finally(() => this.loading.delete(symbol));
      this.loading.set(symbol, loading);
    }
    return loading;
  }

  private refresh(entry: Entry): Promise<void> {
    // Concurrent callers share one catch-up.
    entry.refreshing ??= this.catchUp(entry).finally(() => {
      entry.refreshing = undefined;
    });
    return entry.refreshing;
  }

  private async catchUp(entry: Entry): Promise<void> {
    const started = Date.now();
    const { tracker } = entry;
    const symbol = tracker.symbol;
    const [newer] = await this.source.rows(
      sql`SELECT max(last_update_id) AS id, max(snapshot_time_ms) AS time_ms, count() AS levels
        FROM orderbook_snapshots
        WHERE symbol = ${symbol} AND last_update_id = (
          SELECT max(last_update_id) FROM orderbook_snapshots WHERE symbol = ${symbol} AND last_update_id > ${tracker.snapshotId})`,
      snapshotHead,
    );
    if (newer !== undefined && newer.levels > 0) {
      const levels = await this.source.rows(
        sql`SELECT DISTINCT side, price, qty FROM orderbook_snapshots
          WHERE symbol = ${symbol} AND last_update_id = ${newer.id}`,
        snapshotLevel,
      );
      tracker.loadSnapshot(newer.id, newer.time_ms, levels);
    }
    if (tracker.hasSnapshot) {
      const changes = await this.source.rows(
        sql`SELECT side, price, argMax(qty, last_update_id) AS qty,
            max(last_update_id) AS through_id, max(event_time_ms) AS through_time_ms
          FROM orderbook_updates
          WHERE symbol = ${symbol} AND last_update_id > ${tracker.lastUpdateId}
          GROUP BY side, price`,
        netChange,
      );
      if (changes.length > 0) {
        let lastUpdateId = 0;
        let time = 0;
        const levels: LevelRow[] = changes.map((c) => {
          lastUpdateId = Math.max(lastUpdateId, c.through_id);
          time = Math.max(time, c.through_time_ms);
          return { side: c.side, price: c.price, qty: c.qty };
        });
        tracker.applyUpdates(lastUpdateId, time, levels);
      }
    }
    entry.checkedAt = started;
  }
}
