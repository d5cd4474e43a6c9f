/**
 * Binance's REST request-weight limit, from the client's side: at most `perMinute`
 * weight per clock minute (Binance resets its counter each minute), the server's own
 * count (`X-MBX-USED-WEIGHT-1M`) taken into account, and a full stop after 429/418
 * until the time the server asked for. Pure: times are passed in.
 */
export class RequestWeightBudget {
  private window = -1;
  private used = 0;
  private blockedUntil = 0;

  constructor(private readonly perMinute: number) {}

  /** Reserves `weight` and returns 0, or returns how long to wait before asking again. */
  take(weight: number, now: number): number {
    if (now < this.blockedUntil) return this.blockedUntil - now;
    this.roll(now);
    if (this.used + weight <= this.perMinute || this.used === 0) {
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
