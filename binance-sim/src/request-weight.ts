/** Binance's spot request-weight limit per IP and minute. */
export const DEFAULT_WEIGHT_PER_MINUTE = 6000;

const MINUTE_MS = 60_000;

/**
 * Binance's request-weight accounting, with every client counted as one IP: weight adds
 * up per clock minute (Binance resets its counter at each minute), and once a minute's
 * total is over the limit, requests are refused until the minute ends. Refused requests
 * count too, so a client that keeps asking stays refused. Pure: times are passed in.
 */
export class RequestWeightLimiter {
  private minute = -1;
  private used = 0;

  constructor(readonly perMinute = DEFAULT_WEIGHT_PER_MINUTE) {
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new Error(`invalid weight per minute ${perMinute}`);
  }

  /**
   * Counts a request of `weight`. Returns the minute's total so far and, when the request
   * is refused, the seconds until the minute ends (`Retry-After`).
   */
  spend(weight: number, nowMs: number): { used: number; retryAfterS?: number } {
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (minute !== this.minute) {
      this.minute = minute;
      this.used = 0;
    }
    this.used += weight;
    if (this.used <= this.perMinute) return { used: this.used };
    return { used: this.used, retryAfterS: Math.ceil(((minute + 1) * MINUTE_MS - nowMs) / 1000) };
  }
}
