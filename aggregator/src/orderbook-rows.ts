import type { DepthSnapshotEvent, DepthUpdateEvent, PriceLevel } from '@candleflow/common/binance-events';
import { parseUnits } from '@candleflow/common/decimal';
import type { Side } from '@candleflow/common/order-book';

/** A row of `orderbook_snapshots`: one level of a snapshot. */
export interface SnapshotRecord {
  symbol: string;
  last_update_id: number;
  snapshot_time_ms: number;
  side: Side;
  price: bigint;
  qty: bigint;
}

/** A row of `orderbook_updates`: one changed level of a diff; qty 0 removes the level. */
export interface UpdateRecord {
  symbol: string;
  first_update_id: number;
  last_update_id: number;
  event_time_ms: number;
  side: Side;
  price: bigint;
  qty: bigint;
}

function levels(side: Side, list: readonly PriceLevel[]): { side: Side; price: bigint; qty: bigint }[] {
  return list.map(([price, qty]) => ({ side, price: parseUnits(price), qty: parseUnits(qty) }));
}

export function snapshotRecords(event: DepthSnapshotEvent): SnapshotRecord[] {
  return [...levels('bid', event.bids), ...levels('ask', event.asks)].map((level) => ({
    symbol: event.s,
    last_update_id: event.lastUpdateId,
    snapshot_time_ms: event.E,
    ...level,
  }));
}

export function updateRecords(event: DepthUpdateEvent): UpdateRecord[] {
  return [...levels('bid', event.b), ...levels('ask', event.a)].map((level) => ({
    symbol: event.s,
    first_update_id: event.U,
    last_update_id: event.u,
    event_time_ms: event.E,
    ...level,
  }));
}

/**
 * How a depth event continues its symbol's update-id sequence:
 * - `first`: the first event seen for the symbol, nothing to check against;
 * - `continuous`: a diff with U = previous u + 1, or the first diff after a snapshot
 *   (U <= lastUpdateId + 1 <= u); overlapping diffs count as continuous too;
 * - `resync`: a snapshot after earlier events, as the producer writes when it re-syncs;
 * - `gap`: a diff that skips update ids with no snapshot to explain it (an error upstream);
 * - `stale`: a diff whose ids were all covered already (a repeated or out-of-date diff).
 */
export type Continuity = 'first' | 'continuous' | 'resync' | 'gap' | 'stale';

/** Follows each symbol's update ids across the depth topic. */
export class UpdateIdSequence {
  private readonly last = new Map<string, number>();

  observe(event: DepthUpdateEvent | DepthSnapshotEvent): Continuity {
    const previous = this.last.get(event.s);
    if (event.e === 'depthSnapshot') {
      this.last.set(event.s, event.lastUpdateId);
      return previous === undefined ? 'first' : 'resync';
    }
    if (previous === undefined) {
      this.last.set(event.s, event.u);
      return 'first';
    }
    if (event.u <= previous) return 'stale';
    this.last.set(event.s, event.u);
    // After a diff the next must start at u + 1; after a snapshot it must straddle
    // lastUpdateId + 1. Either way, only a first id beyond that skips updates.
    return event.U > previous + 1 ? 'gap' : 'continuous';
  }

  /** Forgets every symbol (the partition will be re-read from a committed offset). */
  clear(): void {
    this.last.clear();
  }
}
