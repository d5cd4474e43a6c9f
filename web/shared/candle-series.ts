import type { Candle } from './api-types.js';

/**
 * A symbol's candles as the page shows them: at most one per window start, oldest
 * first, and only those of the selected range ending with the newest candle.
 */
export class CandleSeries {
  private readonly byStart = new Map<number, Candle>();
  private sorted: Candle[] = [];

  constructor(
    private readonly rangeMs: number,
    /** Length of one window (ms). */
    private readonly windowMs: number,
  ) {}

  /** Adds new candles and replaces rewritten ones; returns whether anything changed. */
  merge(candles: readonly Candle[]): boolean {
    let changed = false;
    for (const candle of candles) {
      const known = this.byStart.get(candle.start);
      if (known !== undefined && (sameCandle(known, candle) || isLaterState(known, candle))) continue;
      this.byStart.set(candle.start, candle);
      changed = true;
    }
    if (!changed) return false;
    const starts = [...this.byStart.keys()].sort((a, b) => a - b);
    const newest = starts[starts.length - 1] ?? 0;
    const oldestKept = newest + this.windowMs - this.rangeMs;
    for (const start of starts) if (start < oldestKept) this.byStart.delete(start);
    this.sorted = starts.filter((s) => s >= oldestKept).map((s) => this.byStart.get(s) as Candle);
    return true;
  }

  get candles(): readonly Candle[] {
    return this.sorted;
  }

  get newest(): Candle | undefined {
    return this.sorted[this.sorted.length - 1];
  }
}

/**
 * Whether `a` is a strictly later state of the window than `b`, by the order the
 * aggregator's rewrites follow (final after open, then more trades). Keeps an answer that
 * arrives late (history fetched before a push) from undoing a newer candle.
 */
function isLaterState(a: Candle, b: Candle): boolean {
  if (a.isFinal !== b.isFinal) return a.isFinal;
  return a.trades > b.trades;
}

function sameCandle(a: Candle, b: Candle): boolean {
  return (
    a.close === b.close &&
    a.high === b.high &&
    a.low === b.low &&
    a.open === b.open &&
    a.volume === b.volume &&
    a.trades === b.trades &&
    a.vwap === b.vwap &&
    a.isFinal === b.isFinal &&
    a.buyVolume === b.buyVolume &&
    a.missingTrades === b.missingTrades
  );
}
