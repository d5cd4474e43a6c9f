import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distribution, percentile } from '../src/percentiles.js';

test('nearest-rank percentiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('samples that never happened count as infinitely late', () => {
  const d = distribution([300, 100, undefined, 200]);
  assert.deepEqual(d, { count: 4, missing: 1, p50: 200, p99: Number.POSITIVE_INFINITY, max: Number.POSITIVE_INFINITY });
  assert.deepEqual(distribution([5, 1, 3]), { count: 3, missing: 0, p50: 3, p99: 5, max: 5 });
});
