import type { PriceLevel } from './binance-events.js';
import { canonicalDecimal } from './decimal.js';

export type Side = 'bid' | 'ask';

function isZero(qty: string): boolean {
  return !/[1-9]/.test(qty);
}

/**
 * One symbol's order book: price -> quantity per side, as canonical decimal strings.
 * No sync rules here (see the producer's orderbook-sync); this is the data structure
 * every part of the stack rebuilds books with.
 */
export class OrderBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  lastUpdateId = 0;

  constructor(readonly symbol: string) {}

  /** Replaces the whole book with a snapshot. */
  loadSnapshot(lastUpdateId: number, bids: readonly PriceLevel[], asks: readonly PriceLevel[]): void {
    this.bids.clear();
    this.asks.clear();
    this.setLevels('bid', bids);
    this.setLevels('ask', asks);
    this.lastUpdateId = lastUpdateId;
  }

  /** Applies a diff's levels (qty 0 removes a level) and moves to its final update id. */
  applyDiff(finalUpdateId: number, bids: readonly PriceLevel[], asks: readonly PriceLevel[]): void {
    this.setLevels('bid', bids);
    this.setLevels('ask', asks);
    this.lastUpdateId = finalUpdateId;
  }

  setLevel(side: Side, price: string, qty: string): void {
    const levels = side === 'bid' ? this.bids : this.asks;
    const key = canonicalDecimal(price);
    if (isZero(qty)) levels.delete(key);
    else levels.set(key, canonicalDecimal(qty));
  }

  private setLevels(side: Side, levels: readonly PriceLevel[]): void {
    for (const [price, qty] of levels) this.setLevel(side, price, qty);
  }

  /** The best `depth` levels of a side, best first. */
  top(side: Side, depth = Number.POSITIVE_INFINITY): PriceLevel[] {
    const levels = [...(side === 'bid' ? this.bids : this.asks).entries()];
    levels.sort(side === 'bid' ? (a, b) => Number(b[0]) - Number(a[0]) : (a, b) => Number(a[0]) - Number(b[0]));
    return depth < levels.length ? levels.slice(0, depth) : levels;
  }

  bestBid(): PriceLevel | undefined {
    return bestOf(this.bids, (a, b) => a > b);
  }

  bestAsk(): PriceLevel | undefined {
    return bestOf(this.asks, (a, b) => a < b);
  }

  /** Both sides, best first: a stable form for comparing books. */
  levels(): { bids: PriceLevel[]; asks: PriceLevel[] } {
    return { bids: this.top('bid'), asks: this.top('ask') };
  }
}

function bestOf(levels: Map<string, string>, better: (a: number, b: number) => boolean): PriceLevel | undefined {
  let best: PriceLevel | undefined;
  let bestPrice = 0;
  for (const [price, qty] of levels) {
    const p = Number(price);
    if (best === undefined || better(p, bestPrice)) {
      best = [price, qty];
      bestPrice = p;
    }
  }
  return best;
}
