/**
 * A token bucket: up to `burst` actions at once, then `ratePerSecond` on average. Used
 * per WebSocket connection so one client cannot make the server parse, answer and
 * query ClickHouse for an unbounded stream of messages.
 *
 * Kept as the time the bucket will be full again (the GCRA form of a token bucket):
 * one number, no fractional tokens adding up rounding errors.
 */
export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  /** When the next action would be on schedule if actions came exactly at the rate. */
  private due: number;

  constructor(ratePerSecond: number, burst: number, now: number = Date.now()) {
    this.intervalMs = 1000 / ratePerSecond;
    this.toleranceMs = (burst - 1) * this.intervalMs;
    this.due = now;
  }

  /** Takes one token; false when none is left (the action is over the limit). */
  take(now: number = Date.now()): boolean {
    const due = Math.max(this.due, now);
    if (due - now > this.toleranceMs) return false;
    this.due = due + this.intervalMs;
    return true;
  }
}
