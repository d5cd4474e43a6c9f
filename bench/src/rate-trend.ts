import { slope } from './linear-trend.js';

/** A cumulative count (messages so far) sampled at `t` seconds. */
export interface CountPoint {
  t: number;
  count: number;
}

/** How a rate behaved over a run: its level, its best stretch, and whether it held there. */
export interface RateTrend {
  /** Over the whole span, per second. */
  mean: number;
  /** Of each consecutive stretch of about `binS` seconds. */
  bins: number[];
  /** The best stretch: the ceiling reached. */
  ceiling: number;
  /** The mean of the last third of the stretches over the ceiling (1 = it ended at its ceiling). */
  endShareOfCeiling: number;
  /** Least-squares slope of the stretch rates, per second per second (negative: falling). */
  slopePerS: number;
}

/** Stretch rates of a cumulative count; a last stretch shorter than `binS` is left out. */
export function rateTrend(points: readonly CountPoint[], binS: number): RateTrend {
  const first = points[0];
  const last = points.at(-1);
  const span = first && last ? last.t - first.t : 0;
  const bins: { t: number; rate: number }[] = [];
  let from = first;
  for (const point of points) {
    if (!from || point.t - from.t < binS) continue;
    bins.push({ t: (from.t + point.t) / 2, rate: (point.count - from.count) / (point.t - from.t) });
    from = point;
  }
  const rates = bins.map((b) => b.rate);
  const ceiling = Math.max(0, ...rates);
  const tail = rates.slice(-Math.max(1, Math.floor(rates.length / 3)));
  const tailMean = tail.length > 0 ? tail.reduce((a, b) => a + b, 0) / tail.length : 0;
  return {
    mean: first && last && span > 0 ? Math.round((last.count - first.count) / span) : 0,
    bins: rates.map((r) => Math.round(r)),
    ceiling: Math.round(ceiling),
    endShareOfCeiling: ceiling > 0 ? Math.round((tailMean / ceiling) * 100) / 100 : 0,
    slopePerS: Math.round(slope(bins.map((b) => ({ x: b.t, y: b.rate }))) * 10) / 10,
  };
}

/** Stretches over which a rate is judged steady or falling. */
export const TREND_BIN_S = 5;

export type Saturation = 'kept up' | 'saturated steadily' | 'fell below its ceiling';

/** An ending below this share of the ceiling counts as a fall, not noise. */
export const STEADY_SHARE = 0.9;
/** A rate within this share of the asked one kept up. */
const KEPT_UP_SHARE = 0.95;

/**
 * Whether a stage kept up with the asked rate, or, under overload, stayed at the ceiling
 * it reached (steady) or fell below it towards the end.
 */
export function saturation(asked: number, trend: RateTrend): Saturation {
  if (trend.mean >= KEPT_UP_SHARE * asked) return 'kept up';
  return trend.endShareOfCeiling >= STEADY_SHARE ? 'saturated steadily' : 'fell below its ceiling';
}
