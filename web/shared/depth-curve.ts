import type { BookLevel } from './api-types.js';

export interface DepthCurve {
  /** Prices from the best level outwards. */
  prices: number[];
  /** Quantity available at that price or better. */
  cumulative: number[];
}

/** Cumulative depth of one side, its levels given best first. */
export function depthCurve(levels: readonly BookLevel[]): DepthCurve {
  const prices: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [price, qty] of levels) {
    total += qty;
    prices.push(price);
    cumulative.push(total);
  }
  return { prices, cumulative };
}

/** Mid price and spread, when both sides have a level. */
export function spreadOf(
  bids: readonly BookLevel[],
  asks: readonly BookLevel[],
): { mid: number; spread: number } | undefined {
  const bid = bids[0]?.[0];
  const ask = asks[0]?.[0];
  if (bid === undefined || ask === undefined) return undefined;
  return { mid: (bid + ask) / 2, spread: ask - bid };
}
