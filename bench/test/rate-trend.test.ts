import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateTrend, saturation, type CountPoint } from '../src/rate-trend.js';

/** Cumulative counts, one point a second, from per-second rates. */
function counts(rates: number[]): CountPoint[] {
  const points: CountPoint[] = [{ t: 0, count: 0 }];
  for (const [i, rate] of rates.entries()) points.push({ t: i + 1, count: (points[i]?.count ?? 0) + rate });
  return points;
}

test('a steady rate: every stretch at the mean, flat, ending at its ceiling', () => {
  const trend = rateTrend(counts(Array<number>(12).fill(1000)), 4);
  assert.deepEqual(trend, { mean: 1000, bins: [1000, 1000, 1000], ceiling: 1000, endShareOfCeiling: 1, slopePerS: 0 });
  assert.equal(saturation(1000, trend), 'kept up');
});

test('a short last stretch is left out of the stretches but not of the mean', () => {
  const trend = rateTrend(counts([10, 10, 10, 10, 40]), 2);
  assert.deepEqual(trend.bins, [10, 10]);
  assert.equal(trend.mean, 16);
});

test('under overload: steady at a ceiling below the asked rate', () => {
  const trend = rateTrend(counts([500, 520, 480, 510, 490, 500, 505, 495, 500]), 3);
  assert.deepEqual(trend.bins, [500, 500, 500]);
  assert.equal(saturation(1000, trend), 'saturated steadily');
});

test('under overload: a rate that collapses after its peak falls below its ceiling', () => {
  const trend = rateTrend(counts([900, 900, 900, 600, 600, 600, 300, 300, 300]), 3);
  assert.deepEqual(trend.bins, [900, 600, 300]);
  assert.equal(trend.ceiling, 900);
  assert.equal(trend.endShareOfCeiling, 0.33);
  assert.equal(trend.slopePerS, -100);
  assert.equal(saturation(1000, trend), 'fell below its ceiling');
});

test('no points or one point: zeros, not NaN', () => {
  for (const points of [[], [{ t: 0, count: 5 }]]) {
    assert.deepEqual(rateTrend(points, 5), { mean: 0, bins: [], ceiling: 0, endShareOfCeiling: 0, slopePerS: 0 });
  }
});
