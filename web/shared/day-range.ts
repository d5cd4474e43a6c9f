import type { Candle, SymbolSummary } from './api-types.js';

/**
 * The 24 h high and low the page header shows. The summary is read every few seconds
 * while trades arrive every second, so on its own it can show a last price above its
 * "24 h high": it is widened by what came since, the candles from its latest window on
 * (that one was still forming when it was read) and the last trade.
 */
export function dayHighLow(
  summary: Pick<SymbolSummary, 'high24h' | 'low24h' | 'lastWindowStart'>,
  candles: readonly Candle[],
  lastPrice: number | undefined,
): { high: number; low: number } {
  let high = summary.high24h;
  let low = summary.low24h;
  // Oldest first: walk back from the newest until the summary's latest window.
  for (let i = candles.length - 1; i >= 0; i--) {
    const candle = candles[i];
    if (candle === undefined || candle.start < summary.lastWindowStart) break;
    high = Math.max(high, candle.high);
    low = Math.min(low, candle.low);
  }
  if (lastPrice !== undefined) {
    high = Math.max(high, lastPrice);
    low = Math.min(low, lastPrice);
  }
  return { high, low };
}
