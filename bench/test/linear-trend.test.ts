import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slope } from '../src/linear-trend.js';

test('least-squares slope', () => {
  assert.equal(slope([]), 0);
  assert.equal(slope([{ x: 1, y: 5 }]), 0);
  assert.equal(
    slope([
      { x: 0, y: 1 },
      { x: 1, y: 3 },
      { x: 2, y: 5 },
    ]),
    2,
  );
  assert.equal(
    slope([
      { x: 0, y: 10 },
      { x: 1, y: 0 },
      { x: 2, y: 10 },
      { x: 3, y: 0 },
    ]),
    -2,
  );
  assert.equal(
    slope([
      { x: 4, y: 1 },
      { x: 4, y: 9 },
    ]),
    0,
  );
});
