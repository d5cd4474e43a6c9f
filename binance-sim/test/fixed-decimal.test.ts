import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFixed } from '../src/fixed-decimal.js';

test('formatFixed writes integer units with eight decimals, as Binance does', () => {
  assert.equal(formatFixed(6000012, 2), '60000.12000000');
  assert.equal(formatFixed(5, 2), '0.05000000');
  assert.equal(formatFixed(0, 5), '0.00000000');
  assert.equal(formatFixed(123456789, 8), '1.23456789');
  assert.equal(formatFixed(7, 0), '7.00000000');
  assert.equal(formatFixed(100000, 5), '1.00000000');
});
