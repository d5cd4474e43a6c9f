import type { Logger } from '@candleflow/common/logger';

/**
 * Logs a repeated problem once per key and interval, reporting how many were
 * suppressed since, so that a flood of bad frames costs one line a minute.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the line was written, false when it was counted as suppressed. */
  warn(key: string, fields: Record<string, unknown>, message: string): boolean {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return false;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger.warn(suppressed > 0 ? { ...fields, suppressedSinceLast: suppressed } : fields, message);
    return true;
  }
}
