export interface Distribution {
  count: number;
  /** Samples that never happened within the run (counted as +Infinity in the percentiles). */
  missing: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of sorted values; `p` in 0..100. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** p50, p99 and max of samples where undefined means "never" (an infinite latency). */
export function distribution(samples: Iterable<number | undefined>): Distribution {
  const values: number[] = [];
  let missing = 0;
  for (const sample of samples) {
    if (sample === undefined) missing++;
    values.push(sample ?? Number.POSITIVE_INFINITY);
  }
  values.sort((a, b) => a - b);
  return {
    count: values.length,
    missing,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.at(-1) ?? Number.NaN,
  };
}
