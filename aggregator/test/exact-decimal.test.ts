import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExactDecimal, plainDecimal } from '../src/exact-decimal.js';

const d = (text: string): ExactDecimal => ExactDecimal.parse(text);

test('parse and toString keep the value and drop trailing fraction zeros', () => {
  assert.equal(d('297.32000000').toString(), '297.32');
  assert.equal(d('0.00000001').toString(), '0.00000001');
  assert.equal(d('42').toString(), '42');
  assert.equal(d('-0.5').toString(), '-0.5');
  assert.equal(d('0.000').toString(), '0');
  assert.equal(d('007.10').toString(), '7.1');
});

test('parse rejects what is not a plain decimal', () => {
  for (const bad of ['', '1e-8', '.5', '5.', '1,5', 'abc', '--1', '+1']) {
    assert.throws(() => d(bad), /not a decimal number/, bad);
  }
});

test('sums are exact where binary floats drift', () => {
  let exact = ExactDecimal.ZERO;
  let float = 0;
  for (let i = 0; i < 10_000; i++) {
    exact = exact.plus(d('0.1'));
    float += 0.1;
  }
  assert.equal(exact.toString(), '1000');
  assert.equal(exact.toNumber(), 1000);
  assert.notEqual(float, 1000);
});

test('plus, minus and times align scales', () => {
  assert.equal(d('1.5').plus(d('0.25')).toString(), '1.75');
  assert.equal(d('1.5').minus(d('0.25')).toString(), '1.25');
  assert.equal(d('0.25').minus(d('1.5')).toString(), '-1.25');
  assert.equal(d('65000.12').times(d('0.00150000')).toString(), '97.50018');
  assert.equal(d('3').times(d('-0.5')).toString(), '-1.5');
});

test('compare orders by value, not by text or scale', () => {
  assert.equal(d('10').compare(d('9.99999999')), 1);
  assert.equal(d('1.50').compare(d('1.5')), 0);
  assert.equal(d('0.0001').compare(d('0.001')), -1);
  assert.equal(d('-2').compare(d('-1')), -1);
});

test('isZero', () => {
  assert.equal(d('0.00000000').isZero(), true);
  assert.equal(d('0.00000001').isZero(), false);
});

test('toNumber rounds once, to the nearest double', () => {
  assert.equal(d('0.30000000000000004').toNumber(), 0.1 + 0.2);
  assert.equal(d('123456789.12345678').toNumber(), 123456789.12345678);
});

test('plainDecimal writes numbers without exponents', () => {
  assert.equal(plainDecimal(1e-8), '0.00000001');
  assert.equal(plainDecimal(1.5e-7), '0.00000015');
  assert.equal(plainDecimal(-2.5e-9), '-0.0000000025');
  assert.equal(plainDecimal(1e21), '1000000000000000000000');
  assert.equal(plainDecimal(1.25e22), '12500000000000000000000');
  assert.equal(plainDecimal(65000.12), '65000.12');
  assert.equal(plainDecimal(0), '0');
});

test('fromNumber gives back the decimal a Binance string was parsed from', () => {
  for (const text of ['0.00000001', '13.8048', '105.82', '65000.12', '0.00012345', '1234567.87654321']) {
    assert.equal(ExactDecimal.fromNumber(Number(text)).toString(), text);
  }
  assert.throws(() => ExactDecimal.fromNumber(Number.NaN), /not a finite number/);
});

test('rounded rounds half away from zero, and only when needed', () => {
  assert.equal(d('1.23456789').rounded(8).toString(), '1.23456789');
  assert.equal(d('1.234567895').rounded(8).toString(), '1.2345679');
  assert.equal(d('1.234567894999').rounded(8).toString(), '1.23456789');
  assert.equal(d('-0.000000005').rounded(8).toString(), '-0.00000001');
  assert.equal(d('2.5').rounded(0).toString(), '3');
});

test('fits checks integer and fraction digits, ignoring trailing zeros', () => {
  assert.equal(d('9999999999.99999999').fits(10, 8), true);
  assert.equal(d('10000000000').fits(10, 8), false);
  assert.equal(d('0.000000001').fits(10, 8), false);
  assert.equal(d('1.10000000000').fits(10, 8), true);
  assert.equal(d('-9999999999').fits(10, 8), true);
});

test('fromNumber with a scale recovers decimals a Float64 cannot hold exactly', () => {
  assert.equal(ExactDecimal.fromNumber(1234567.87654321, 8).toString(), '1234567.87654321');
  assert.equal(ExactDecimal.fromNumber(0.1 + 0.2, 8).toString(), '0.3');
});

test('dividedBy rounds the exact quotient', () => {
  assert.equal(d('388.7313').dividedBy(d('28.25'), 20).toString(), '13.7604');
  assert.equal(d('1').dividedBy(d('3'), 5).toString(), '0.33333');
  assert.equal(d('2').dividedBy(d('3'), 5).toString(), '0.66667');
  assert.equal(d('-2').dividedBy(d('3'), 2).toString(), '-0.67');
  assert.equal(d('1').dividedBy(d('-8'), 2).toString(), '-0.13');
  assert.equal(d('123.456').dividedBy(d('0.001'), 0).toString(), '123456');
  assert.throws(() => d('1').dividedBy(d('0.000'), 2), /division by zero/);
});
