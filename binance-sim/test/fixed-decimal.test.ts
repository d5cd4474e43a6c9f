import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDecimals, formatFixed, multiplyDecimals } from '../src/fixed-decimal.js';

test('formatFixed writes integer units with eight decimals, as Binance does', () => {
  assert.equal(formatFixed(6000012, 2), '60000.12000000');
  assert.equal(formatFixed(5, 2), '0.05000000');
  assert.equal(formatFixed(0, 5), '0.00000000');
  assert.equal(formatFixed(123456789, 8), '1.23456789');
  assert.equal(formatFixed(7, 0), '7.00000000');
  assert.equal(formatFixed(100000, 5), '1.00000000');
});

test('multiplyDecimals gives a quote quantity with eight decimals, cut beyond them', () => {
  assert.equal(multiplyDecimals('4.00000100', '12.00000000'), '48.00001200');
  assert.equal(multiplyDecimals('60000.12000000', '0.00100000'), '60.00012000');
  assert.equal(multiplyDecimals('100.5', '0.25'), '25.12500000');
  assert.equal(multiplyDecimals('0.00000001', '0.50000000'), '0.00000000');
  assert.equal(multiplyDecimals('7', '3'), '21.00000000');
});

test('addDecimals sums exactly, with eight decimals', () => {
  assert.equal(addDecimals('0.25000000', '0.1'), '0.35000000');
  assert.equal(addDecimals('99999999.99999999', '0.00000001'), '100000000.00000000');
  assert.equal(addDecimals('0.1', '0.2'), '0.30000000');
});
