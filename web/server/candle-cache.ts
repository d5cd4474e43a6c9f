import type { Candle } from '../shared/api-types.js';
import { LruCache } from './lru-cache.js';
import type { MarketReader } from './market-reader.js';

export interface CandleCacheOptions {
  /** How far before a symbol's latest window the cache holds every candle. */
  spanMs?: number;
  /** Candles are never served more than this behind ClickHouse (refreshed in the background from half of it). */
  maxAgeMs?: number;
  /** How far back each catch-up looks for new and rewritten windows. */
  catchUpMs?: number;
  /** Every this long the whole span is read again (in the background), in case older windows changed. */
  reloadMs?: number;
  /** Symbols nobody asked for in this long are dropped. */
  idleMs?: number;
  /** Symbols held at most (least recently asked for dropped first). */
  maxSymbols?: number;
}

interface Entry {
  byStart: Map<number, Candle>;
  sorted: Candle[] | undefined;
  latest: number;
  refreshedAt: number;
  reloadedAt: number;
  usedAt: number;
  refreshing?: Promise<void>;
  reloading?: Promise<void>;
}

/** Index of the first candle starting at or after `start` in a sorted list. */
function lowerBound(candles: readonly Candle[], start: number): number {
  let lo = 0;
  let hi = candles.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((candles[mid]?.start ?? 0) < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The last hours of candles of the symbols people look at, in memory, so the page's
 * usual request (the range ending now) costs no ClickHouse read. Kept current the way
 * the live pushes are: served candles are at most `maxAgeMs` (2 s) behind ClickHouse, by
 * re-reading the recent windows, and the whole span again every `reloadMs`.
 * Ranges reaching further back than the span go to ClickHouse.
 */
export class CandleCache {
  private readonly entries: LruCache<string, Entry>;
  private readonly spanMs: number;
  private readonly maxAgeMs: number;
  private readonly catchUpMs: number;
  private readonly reloadMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly reader: MarketReader,
    options: CandleCacheOptions = {},
  ) {
    this.spanMs = options.spanMs ?? 6 * 3600_000 + 5 * 60_000;
    this.maxAgeMs = options.maxAgeMs ?? 2000;
    this.catchUpMs = options.catchUpMs ?? 120_000;
    this.reloadMs = options.reloadMs ?? 60_000;
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.entries = new LruCache(options.maxSymbols ?? 200);
  }

  /**
   * The symbol's latest window start and its candles overlapping `[from, to)`, oldest
   * first; undefined when the symbol has no windows or the range starts before the span
   * the cache holds. `to` undefined means up to the latest window.
   */
  async windows(
    symbol: string,
    from: (latest: number) => number,
    to?: number,
  ): Promise<{ latest: number; candles: Candle[] } | undefined> {
    const now = Date.now();
    // Least recently used first: only entries that are idle are looked at.
    this.entries.dropOldestWhile((e) => now - e.usedAt > this.idleMs);
    let entry = this.entries.get(symbol);
    if (entry === undefined) {
      const latest = await this.reader.latestWindowStart(symbol);
      if (latest === undefined || from(latest) < latest - this.spanMs) return undefined;
      entry = await this.load(symbol, latest);
    }
    entry.usedAt = now;
    // Past half the allowed age, catch up in the background; past it, wait for the catch-up.
    const age = now - entry.refreshedAt;
    if (age >= this.maxAgeMs) await this.refresh(symbol, entry);
    else if (age >= this.maxAgeMs / 2) void this.refresh(symbol, entry).catch(() => undefined);
    if (now - entry.reloadedAt >= this.reloadMs) this.reloadInBackground(symbol, entry);
    const fromMs = from(entry.latest);
    if (fromMs < entry.latest - this.spanMs) return undefined;
    const sorted = (entry.sorted ??= [...entry.byStart.values()].sort((a, b) => a.start - b.start));
    const windowMs = this.reader.windowMs;
    const first = lowerBound(sorted, Math.floor(fromMs / windowMs) * windowMs);
    const end = to === undefined ? sorted.length : lowerBound(sorted, to);
    return { latest: entry.latest, candles: sorted.slice(first, Math.max(first, end)) };
  }

  private async load(symbol: string, latest: number): Promise<Entry> {
    const started = Date.now();
    const candles = await this.reader.windowsFrom(symbol, latest - this.spanMs);
    const entry: Entry = {
      byStart: new Map(candles.map((c) => [c.start, c])),
      sorted: candles,
      latest: candles[candles.length - 1]?.start ?? latest,
      refreshedAt: started,
      reloadedAt: started,
      usedAt: started,
    };
    this.entries.set(symbol, entry);
    return entry;
  }

  private refresh(symbol: string, entry: Entry): Promise<void> {
    entry.refreshing ??= (async () => {
      const started = Date.now();
      const recent = await this.reader.windowsFrom(symbol, entry.latest - this.catchUpMs);
      this.merge(entry, recent);
      entry.refreshedAt = started;
    })().finally(() => {
      entry.refreshing = undefined;
    });
    return entry.refreshing;
  }

  private reloadInBackground(symbol: string, entry: Entry): void {
    if (entry.reloading) return;
    entry.reloadedAt = Date.now();
    entry.reloading = (async () => {
      const all = await this.reader.windowsFrom(symbol, entry.latest - this.spanMs);
      const readUpTo = all[all.length - 1]?.start ?? 0;
      // Start over from what ClickHouse holds now, keeping what catch-ups added meanwhile.
      const caughtUp = [...entry.byStart.values()].filter((c) => c.start > readUpTo);
      entry.byStart = new Map(all.map((c) => [c.start, c]));
      this.merge(entry, caughtUp);
    })()
      // A failed reload leaves the cache as it was; ClickHouse trouble surfaces on the next refresh.
      .catch(() => undefined)
      .finally(() => {
        entry.reloading = undefined;
      });
  }

  private merge(entry: Entry, candles: readonly Candle[]): void {
    for (const candle of candles) {
      entry.byStart.set(candle.start, candle);
      if (candle.start > entry.latest) entry.latest = candle.start;
    }
    const oldest = entry.latest - this.spanMs;
    for (const start of entry.byStart.keys()) if (start < oldest) entry.byStart.delete(start);
    entry.sorted = undefined;
  }
}
