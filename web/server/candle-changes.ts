import type { Candle } from '../shared/api-types.js';

/** A candle with the text that identifies its state, computed once per push for every page. */
export interface SignedCandle {
  candle: Candle;
  signature: string;
}

/** Signs a symbol's recent candles, oldest first. */
export function signCandles(candles: readonly Candle[]): SignedCandle[] {
  return candles
    .map((candle) => ({ candle, signature: JSON.stringify(candle) }))
    .sort((a, b) => a.candle.start - b.candle.start);
}

/**
 * What one page has been sent of a symbol's recent candles, so each push carries only
 * candles that are new or were rewritten (an open window growing, or closing).
 */
export class SentCandles {
  private readonly sent = new Map<number, string>();

  /**
   * The candles of `current` (oldest first) that differ from what was sent, remembered
   * as sent. Candles that left `current` are forgotten.
   */
  take(current: readonly SignedCandle[]): Candle[] {
    const changed: Candle[] = [];
    for (const { candle, signature } of current) {
      if (this.sent.get(candle.start) !== signature) {
        this.sent.set(candle.start, signature);
        changed.push(candle);
      }
    }
    // Every start of `current` is in `sent` now: a larger map holds candles that left.
    if (this.sent.size > current.length) {
      const kept = new Set(current.map((c) => c.candle.start));
      for (const start of this.sent.keys()) if (!kept.has(start)) this.sent.delete(start);
    }
    return changed;
  }
}
