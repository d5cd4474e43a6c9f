/**
 * Continuity of each symbol's trade ids, with no I/O. Binance spot trade ids are
 * consecutive per symbol, so the stream's next id tells whether anything was missed:
 * a jump past the last published id is a hole to repair over REST, an id at or below it
 * was published already (by the stream or by a repair) and is skipped.
 */

/** Consecutive trade ids `from..to`, both included. */
export interface IdRange {
  from: number;
  to: number;
}

/** Where a symbol's trades start in this run. */
export type TradeStart =
  /** The topic ends with this id (read from its tail at start). */
  | { kind: 'after'; lastId: number }
  /** Not on the topic: history from this time (ms) on is filled before the first streamed trade. */
  | { kind: 'since'; ms: number }
  /** Not on the topic and no history wanted: the stream's first trade starts it. */
  | { kind: 'fresh' };

export type StreamTradeVerdict =
  | {
      action: 'publish';
      /** Ids between the last published one and this one, missed by the stream. */
      hole?: IdRange;
      /** First trade of a symbol started `since`: fill from that time up to (not including) this id. */
      backfill?: { sinceMs: number; beforeId: number };
    }
  /** At or below the last published id: publishing it again would duplicate it. */
  | { action: 'skip' };

export class TradeContinuity {
  private readonly last = new Map<string, number>();
  private readonly since = new Map<string, number>();

  start(symbol: string, start: TradeStart): void {
    this.since.delete(symbol);
    this.last.delete(symbol);
    if (start.kind === 'after') this.last.set(symbol, start.lastId);
    else if (start.kind === 'since') this.since.set(symbol, start.ms);
  }

  /** Judges a trade id from the stream; a published one becomes the symbol's last id. */
  onStreamTrade(symbol: string, id: number): StreamTradeVerdict {
    const last = this.last.get(symbol);
    if (last !== undefined && id <= last) return { action: 'skip' };
    this.last.set(symbol, id);
    if (last !== undefined)
      return id > last + 1 ? { action: 'publish', hole: { from: last + 1, to: id - 1 } } : PUBLISH;
    const sinceMs = this.since.get(symbol);
    if (sinceMs === undefined) return PUBLISH;
    this.since.delete(symbol);
    return { action: 'publish', backfill: { sinceMs, beforeId: id } };
  }
}

/** Shared: the common verdict allocates nothing on the hot path. */
const PUBLISH: StreamTradeVerdict = Object.freeze({ action: 'publish' });
