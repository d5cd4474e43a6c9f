import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPercent, formatPrice, formatQuantity, priceDecimals } from '../shared/price-format.js';

test('prices show about six significant digits, 2 to 8 decimals', () => {
  assert.equal(formatPrice(65012.345), '65,012.35');
  assert.equal(formatPrice(3012.4567), '3,012.46');
  assert.equal(formatPrice(150.5), '150.500');
  assert.equal(formatPrice(0.123456), '0.123456');
  assert.equal(formatPrice(0.00001234), '0.00001234');
  assert.deepEqual([priceDecimals(0), priceDecimals(Number.NaN), priceDecimals(1e-12)], [2, 2, 8]);
});

test('quantities shrink with suffixes', () => {
  assert.deepEqual([1_234_567_890, 1_234_567, 12_345, 123.45, 1.23456, 0.000123456].map(formatQuantity), [
    '1.23B',
    '1.23M',
    '12.3K',
    '123.5',
    '1.235',
    '0.0001235',
  ]);
});

test('percentages carry their sign', () => {
  assert.deepEqual([formatPercent(1.234), formatPercent(-0.4), formatPercent(0)], ['+1.23%', '-0.40%', '+0.00%']);
});
