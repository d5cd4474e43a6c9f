import { storedDecimalText } from '@candleflow/common/decimal';
import { OrderBook, type Side } from '@candleflow/common/order-book';
import type { BookLevel } from '../shared/api-types.js';

/** A level as stored in `orderbook_snapshots` / `orderbook_updates`; qty 0 removes it. */
export interface LevelRow {
  side: Side;
  price: number;
  qty: number;
}

/**
 * One symbol's book as the contract defines it: the latest snapshot, then every update
 * after it in update-id order. Only the final quantity of each level matters, so a batch
 * of updates arrives as "level -> quantity after the last of them".
 */
export class BookTracker {
  private book: OrderBook;
  /** Update id of the snapshot the book was rebuilt from; -1 before any snapshot. */
  snapshotId = -1;
  /** Event time (ms) of the latest update applied, or the snapshot's time. */
  updateTime = 0;

  constructor(readonly symbol: string) {
    this.book = new OrderBook(symbol);
  }

  get hasSnapshot(): boolean {
    return this.snapshotId >= 0;
  }

  get lastUpdateId(): number {
    return this.book.lastUpdateId;
  }

  /** Starts over from a snapshot. */
  loadSnapshot(lastUpdateId: number, timeMs: number, levels: readonly LevelRow[]): void {
    this.book = new OrderBook(this.symbol);
    for (const level of levels) this.setLevel(level);
    this.book.lastUpdateId = lastUpdateId;
    this.snapshotId = lastUpdateId;
    this.updateTime = timeMs;
  }

  /**
   * Applies the net effect of the updates after the current update id up to `lastUpdateId`.
   * Ignored when it does not move the book forward (an older or repeated batch).
   */
  applyUpdates(lastUpdateId: number, timeMs: number, levels: readonly LevelRow[]): boolean {
    if (!this.hasSnapshot || lastUpdateId <= this.book.lastUpdateId) return false;
    for (const level of levels) this.setLevel(level);
    this.book.lastUpdateId = lastUpdateId;
    this.updateTime = Math.max(this.updateTime, timeMs);
    return true;
  }

  /** The best `depth` levels of each side as numbers, best first. */
  top(depth: number): { bids: BookLevel[]; asks: BookLevel[] } {
    const toNumbers = (side: Side): BookLevel[] =>
      this.book.top(side, depth).map(([price, qty]): BookLevel => [Number(price), Number(qty)]);
    return { bids: toNumbers('bid'), asks: toNumbers('ask') };
  }

  private setLevel(level: LevelRow): void {
    this.book.setLevel(level.side, storedDecimalText(level.price), storedDecimalText(level.qty));
  }
}
