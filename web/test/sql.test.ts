import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, joinSql, numberLiteral, sql, SqlLiteralError, stringLiteral } from '../server/sql.js';

test('stringLiteral escapes backslash, quote and control characters the way ClickHouse reads them', () => {
  assert.equal(stringLiteral('BTCUSDT'), "'BTCUSDT'");
  assert.equal(stringLiteral("it's"), "'it\\'s'");
  assert.equal(stringLiteral('a\\b'), "'a\\\\b'");
  assert.equal(stringLiteral("\\'"), "'\\\\\\''");
  assert.equal(stringLiteral('line\nnext\r\ttab\0nul'), "'line\\nnext\\r\\ttab\\0nul'");
  assert.equal(stringLiteral('\u0001\u001f\u007f'), "'\\x01\\x1f\\x7f'");
  assert.equal(stringLiteral('é – 中'), "'é – 中'");
});

test('numberLiteral writes finite numbers and refuses the rest', () => {
  assert.equal(numberLiteral(42), '42');
  assert.equal(numberLiteral(0.25), '0.25');
  assert.equal(numberLiteral(-3), '(-3)');
  assert.equal(numberLiteral(1e-7), '1e-7');
  assert.equal(numberLiteral(2n ** 64n - 1n), '18446744073709551615');
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 60]) {
    assert.throws(() => numberLiteral(bad), SqlLiteralError);
  }
});

test('sql renders each value by its type and leaves the template text alone', () => {
  const query = sql`SELECT * FROM t WHERE s = ${"x' OR 1=1 --"} AND n > ${5} AND d >= ${at(1_714_564_800_999)} AND b = ${true}`;
  assert.equal(
    query.toString(),
    "SELECT * FROM t WHERE s = 'x\\' OR 1=1 --' AND n > 5 AND d >= toDateTime(1714564800) AND b = 1",
  );
});

test('sql renders lists, nests fragments and joins them', () => {
  const inner = sql`symbol IN ${['A', 'B']}`;
  assert.equal(sql`WHERE ${inner} AND x = ${1}`.toString(), "WHERE symbol IN ('A', 'B') AND x = 1");
  assert.equal(joinSql([sql`a = ${1}`, sql`b = ${'2'}`], ' OR ').toString(), "a = 1 OR b = '2'");
  assert.throws(() => sql`x IN ${[]}`, SqlLiteralError);
  assert.throws(() => joinSql([], ' AND '), SqlLiteralError);
});

test('times outside DateTime are refused', () => {
  assert.throws(() => sql`${at(-1000)}`, SqlLiteralError);
  assert.throws(() => sql`${at(2 ** 32 * 1000)}`, SqlLiteralError);
  assert.throws(() => sql`${at(Number.NaN)}`, SqlLiteralError);
});

test('values that are not SQL values are refused at run time', () => {
  const sneaky = { toString: () => '1; DROP TABLE trades' } as unknown as string;
  assert.throws(() => sql`SELECT ${sneaky}`, SqlLiteralError);
  assert.throws(() => sql`SELECT ${undefined as unknown as string}`, SqlLiteralError);
});
