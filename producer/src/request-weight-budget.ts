/**
 * Binance's REST request-weight limit, from the client's side: at most `perMinute`
 * weight per clock minute (Binance resets its counter each minute), the server's own
 * count (`X-MBX-USED-WEIGHT-1M`) taken into account, and a full stop after 429/418
 * until the time the server asked for. One budget serves every request the producer
 * makes (depth snapshots, trade repairs). Pure: times are passed in.
 */
export class RequestWeightBudget {
  private window = -1;
  private used = 0;
  private blockedUntil = 0;

  constructor(readonly perMinute: number) {}

  /**
   * Reserves `weight` and returns 0, or returns how long to wait before asking again.
   * `reserve` is weight this request must leave unspent in the minute (for requests
   * that take priority over it).
   */
  take(weight: number, now: number, reserve = 0): number {
    if (now < this.blockedUntil) return this.blockedUntil - now;
    this.roll(now);
    if (this.used + weight <= this.perMinute - reserve || this.used === 0) {
      this.used += weight;
      return 0;
    }
    return (this.window + 1) * 60_000 - now;
  }

  /** The weight the server says this IP used in the current minute. */
  observeUsed(used: number, now: number): void {
    this.roll(now);
    this.used = Math.max(this.used, used);
  }

  /** The server refused (429/418) and asked to wait until `until`. */
  block(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }

  private roll(now: number): void {
    const window = Math.floor(now / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
  }
}

/** The depth limits Binance serves, and the weight of a snapshot of each. */
export const SNAPSHOT_DEPTHS = [5, 10, 20, 50, 100, 500, 1000, 5000] as const;

export function snapshotWeight(depth: number): number {
  if (depth <= 100) return 5;
  if (depth <= 500) return 25;
  if (depth <= 1000) return 50;
  return 250;
}

/** `GET /api/v3/historicalTrades` (up to 1000 trades) and `GET /api/v3/aggTrades`. */
export const HISTORICAL_TRADES_WEIGHT = 25;
export const AGG_TRADES_WEIGHT = 4;
