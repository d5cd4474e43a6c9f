import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addDecimals,
  canonicalDecimal,
  DECIMAL_TEXT,
  divideRounded,
  formatFixed,
  formatUnits,
  multiplyDecimals,
  parseUnits,
  scanUnits,
  scanUnitsIn,
  storedDecimalText,
  unitsOfNumber,
  unitsToNumber,
} from '../src/decimal.js';

test('scanUnits reads plain decimals as units of 10^-8, whatever their trailing or leading zeros', () => {
  assert.equal(scanUnits('297.32000000'), 29_732_000_000n);
  assert.equal(scanUnits('0.00000001'), 1n);
  assert.equal(scanUnits('42'), 4_200_000_000n);
  assert.equal(scanUnits('007.10'), 710_000_000n);
  assert.equal(scanUnits('0.000'), 0n);
  assert.equal(scanUnits('0.000000010000'), 1n);
  assert.equal(scanUnits('9999999999.99999999'), 999_999_999_999_999_999n, 'past 2^53: exact through BigInt');
  assert.equal(scanUnits('0000000000012.5'), 1_250_000_000n, 'leading zeros are not integer digits');
});

test('scanUnits tells malformed text from values beyond Decimal(18, 8)', () => {
  for (const bad of ['', '1e-8', '.5', '5.', '1,5', 'abc', '--1', '+1', '-1', '1.2.3', ' 1']) {
    assert.equal(scanUnits(bad), 'not_decimal', bad);
  }
  assert.equal(scanUnits('0.000000001'), 'out_of_range');
  assert.equal(scanUnits('12345678901.5'), 'out_of_range');
  assert.equal(scanUnits(`1${'0'.repeat(400)}`), 'out_of_range');
  assert.throws(() => parseUnits('1e-8'), /not a decimal number: "1e-8"/);
  assert.throws(() => parseUnits('0.000000001'), /0.000000001 has more than 10 integer or 8 fraction digits/);
});

test("scanUnits reads exactly the texts DECIMAL_TEXT (the schemas' decimal) accepts", () => {
  for (const text of [
    '0',
    '1.5',
    '007.10',
    '1.',
    '.1',
    '1e5',
    '-1',
    '1.2.3',
    '',
    '１',
    '1 ',
    '0.000000001',
    `9${'9'.repeat(30)}`,
  ]) {
    assert.equal(scanUnits(text) !== 'not_decimal', DECIMAL_TEXT.test(text), text);
  }
});

test('scanUnitsIn reads a range of bytes as scanUnits reads the same text', () => {
  const texts = ['297.32000000', '0.00000001', '42', '007.10', '0.000', '9999999999.99999999', '0.000000001'];
  for (const text of [...texts, '12345678901.5', '', '1.', '.5', '1e5', '-1', '1.2.3', '1 ']) {
    const bytes = Buffer.from(`"p":"${text}","q"`, 'latin1');
    assert.equal(scanUnitsIn(bytes, 5, 5 + text.length), scanUnits(text), text);
    assert.equal(scanUnitsIn(`x${text}y`, 1, 1 + text.length), scanUnits(text), text);
  }
  assert.equal(scanUnitsIn(Buffer.from('"1.5"'), 1, 4), 150_000_000n, 'the range ends the number, not the bytes');
});

test('formatUnits writes units of any scale without trailing fraction zeros', () => {
  assert.equal(formatUnits(29_732_000_000n), '297.32');
  assert.equal(formatUnits(1n), '0.00000001');
  assert.equal(formatUnits(0n), '0');
  assert.equal(formatUnits(-150_000_000n), '-1.5');
  assert.equal(formatUnits(9_750_001_800_000_000n, 16), '0.97500018');
  assert.equal(formatUnits(42n, 0), '42');
});

test('sums are exact where binary floats drift; the conversion to a Float64 rounds once', () => {
  let exact = 0n;
  let float = 0;
  for (let i = 0; i < 10_000; i++) {
    exact += parseUnits('0.1');
    float += 0.1;
  }
  assert.equal(formatUnits(exact), '1000');
  assert.equal(unitsToNumber(exact), 1000);
  assert.notEqual(float, 1000);
  assert.equal(unitsToNumber(30_000_000_000_000_004n, 17), 0.1 + 0.2);
  assert.equal(unitsToNumber(12_345_678_912_345_678n), 123456789.12345678);
});

test('divideRounded rounds half away from zero', () => {
  assert.equal(divideRounded(5n, 2n), 3n);
  assert.equal(divideRounded(-5n, 2n), -3n);
  assert.equal(divideRounded(5n, -2n), -3n);
  assert.equal(divideRounded(4n, 3n), 1n);
  assert.equal(divideRounded(2n, 3n), 1n);
  assert.throws(() => divideRounded(1n, 0n), /division by zero/);
});

test('unitsOfNumber recovers the Decimal(18, 8) a Float64 column was converted from', () => {
  assert.equal(unitsOfNumber(1e-8), 1n);
  assert.equal(unitsOfNumber(1.5e-7), 15n);
  assert.equal(unitsOfNumber(65000.12), 6_500_012_000_000n);
  assert.equal(unitsOfNumber(0.1 + 0.2), 30_000_000n, '0.30000000000000004 rounds to 0.3');
  assert.equal(unitsOfNumber(1234567.87654321), 123_456_787_654_321n);
  assert.equal(unitsOfNumber(Number('9999999999.99999999')), 1_000_000_000_000_000_000n, 'the nearest Float64 is 1e10');
  assert.equal(unitsOfNumber(-2.5e-9), 0n);
  assert.equal(unitsOfNumber(-5e-9), -1n);
  assert.equal(unitsOfNumber(0), 0n);
  assert.throws(() => unitsOfNumber(Number.NaN), /not a finite number/);
  assert.equal(storedDecimalText(1e-7), '0.0000001');
  assert.equal(storedDecimalText(0.00012345), '0.00012345');
  assert.equal(storedDecimalText(65000.5), '65000.5');
  assert.equal(storedDecimalText(1e21), '1000000000000000000000');
});

test('canonicalDecimal drops trailing and leading zeros only', () => {
  assert.equal(canonicalDecimal('297.32000000'), '297.32');
  assert.equal(canonicalDecimal('100.00000000'), '100');
  assert.equal(canonicalDecimal('0.00100000'), '0.001');
  assert.equal(canonicalDecimal('0.00000000'), '0');
  assert.equal(canonicalDecimal('1200'), '1200');
  assert.equal(canonicalDecimal('007.50'), '7.5');
});

test('formatFixed writes units with eight decimals, as Binance does', () => {
  assert.equal(formatFixed(6000012, 2), '60000.12000000');
  assert.equal(formatFixed(5, 2), '0.05000000');
  assert.equal(formatFixed(0, 5), '0.00000000');
  assert.equal(formatFixed(123456789, 8), '1.23456789');
  assert.equal(formatFixed(7, 0), '7.00000000');
  assert.equal(formatFixed(100000, 5), '1.00000000');
  assert.equal(formatFixed(6_000_012_000_000n), '60000.12000000');
  assert.equal(formatFixed(100_000_000n), '1.00000000');
  assert.equal(formatFixed(1n), '0.00000001');
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
