import type { Candle } from '../shared/api-types.js';

/**
 * What one page has been sent of a symbol's recent candles, so each push carries only
 * candles that are new or were rewritten (an open window growing, or closing).
 */
export class SentCandles {
  private readonly sent = new Map<number, string>();

  /**
   * The candles of `current` that differ from what was sent, oldest first, remembered as
   * sent. Candles that left `current` are forgotten.
   */
  take(current: readonly Candle[]): Candle[] {
    const changed: Candle[] = [];
    const seen = new Set<number>();
    for (const candle of current) {
      seen.add(candle.start);
      const signature = JSON.stringify(candle);
      if (this.sent.get(candle.start) !== signature) {
        this.sent.set(candle.start, signature);
        changed.push(candle);
      }
    }
    for (const start of this.sent.keys()) if (!seen.has(start)) this.sent.delete(start);
    return changed.sort((a, b) => a.start - b.start);
  }
}
