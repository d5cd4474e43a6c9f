import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addRange, missingIds, removeRange, takeLowest, totalSize } from '../src/id-ranges.js';

const r = (from: number, to: number) => ({ from, to });

describe('id ranges', () => {
  test('addRange keeps ranges sorted and merges overlapping and touching ones', () => {
    assert.deepEqual(addRange([], r(5, 7)), [r(5, 7)]);
    assert.deepEqual(addRange([r(10, 12)], r(1, 3)), [r(1, 3), r(10, 12)]);
    assert.deepEqual(addRange([r(1, 3)], r(10, 12)), [r(1, 3), r(10, 12)]);
    assert.deepEqual(addRange([r(1, 3), r(10, 12)], r(4, 9)), [r(1, 12)]);
    assert.deepEqual(addRange([r(1, 3), r(10, 12), r(20, 30)], r(11, 21)), [r(1, 3), r(10, 30)]);
    assert.deepEqual(addRange([r(1, 3)], r(5, 4)), [r(1, 3)]);
  });

  test('removeRange cuts ranges and says which ids it took', () => {
    assert.deepEqual(removeRange([r(1, 10), r(20, 30)], r(5, 22)), {
      ranges: [r(1, 4), r(23, 30)],
      within: [r(5, 10), r(20, 22)],
    });
    assert.deepEqual(removeRange([r(1, 10)], r(11, 20)), { ranges: [r(1, 10)], within: [] });
    assert.deepEqual(removeRange([r(1, 10)], r(0, 20)), { ranges: [], within: [r(1, 10)] });
  });

  test('takeLowest takes ids from the low end', () => {
    assert.deepEqual(takeLowest([r(1, 3), r(10, 19)], 5), { ranges: [r(12, 19)], taken: [r(1, 3), r(10, 11)] });
    assert.deepEqual(takeLowest([r(1, 3)], 0), { ranges: [r(1, 3)], taken: [] });
    assert.equal(totalSize([r(1, 3), r(10, 19)]), 13);
  });

  test('missingIds lists what a sorted id list lacks within a span', () => {
    assert.deepEqual(missingIds([1, 2, 5, 5, 6, 9], r(1, 10)), [r(3, 4), r(7, 8), r(10, 10)]);
    assert.deepEqual(missingIds([], r(3, 4)), [r(3, 4)]);
    assert.deepEqual(missingIds([0, 3, 4, 99], r(3, 4)), []);
  });
});
