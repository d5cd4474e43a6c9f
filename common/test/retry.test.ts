import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '@candleflow/common/retry';

const options = { minMs: 1000, maxMs: 30_000 };

test('backoff doubles per attempt up to the maximum, with half of it random', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, options, () => 0)),
    [500, 1000, 2000, 4000, 8000, 15_000, 15_000],
  );
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, options, () => 1)),
    [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
  );
  assert.equal(
    backoffDelay(3, options, () => 0.5),
    3000,
  );
});

test('huge attempt numbers stay at the maximum', () => {
  assert.equal(
    backoffDelay(10_000, options, () => 1),
    30_000,
  );
});
