/**
 * The engine comparison's verdicts and failure messages (support/engine-comparison.ts),
 * without any engine: what test/clickhouse-engines.integration.test.ts reports when a
 * statement breaks on one engine, or answers differently.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareAnswers, normalisedRows, type ComparedStatement, type Outcome } from './support/engine-comparison.js';

const old = 'ClickHouse 18.16.1 (server)';
const modern = 'chDB 26.7.2.1 (in-process)';

function compare(statement: Partial<ComparedStatement>, a: Outcome, b: Outcome): string | undefined {
  return compareAnswers(
    { label: 'web MarketReader.windowsFrom', sql: 'SELECT x FROM t ORDER BY x', format: 'JSONEachRow', ...statement },
    { engine: old, outcome: a },
    { engine: modern, outcome: b },
  );
}

test('a statement that fails on one engine fails the comparison with the error and the other answer', () => {
  const error = 'Code: 46, e.displayText() = DB::Exception: Unknown function toStartOfInterval';
  const message = compare(
    { sql: 'SELECT toStartOfInterval(window_start, INTERVAL 10 second) AS s FROM trade_windows\n  ORDER BY s' },
    { ok: false, error },
    { ok: true, text: '{"s":"2024-05-01 12:00:00"}\n' },
  );
  assert.equal(
    message,
    [
      `web MarketReader.windowsFrom: works on ${modern} but fails on ${old}`,
      '  SQL: SELECT toStartOfInterval(window_start, INTERVAL 10 second) AS s FROM trade_windows ORDER BY s',
      `  ${old}: ERROR ${error}`,
      `  ${modern}: 1 row(s)`,
      '      {"s":"2024-05-01 12:00:00"}',
    ].join('\n'),
  );
  // The other way round, and a statement without a result.
  const other = compare(
    { format: 'none', sql: 'DROP TABLE x' },
    { ok: true, text: '' },
    { ok: false, error: 'Code: 60' },
  );
  assert.equal(
    other
      ?.split('\n')
      .filter((line) => !line.includes('SQL:'))
      .join('\n'),
    [
      `web MarketReader.windowsFrom: works on ${old} but fails on ${modern}`,
      `  ${old}: ok`,
      `  ${modern}: ERROR Code: 60`,
    ].join('\n'),
  );
});

test('a statement that fails on both engines is reported with both errors', () => {
  const message = compare({}, { ok: false, error: 'Code: 62 (old)' }, { ok: false, error: 'Code: 62 (new)' });
  assert.match(message ?? '', /fails on both engines/);
  assert.match(message ?? '', /ERROR Code: 62 \(old\)[\s\S]*ERROR Code: 62 \(new\)/);
});

test('different answers are reported with both answers and the first differing row', () => {
  // What 18.16 does when it parses Float64 text itself: a last-digit error.
  const message = compare(
    {},
    { ok: true, text: '{"x":1}\n{"x":19.800430210000002}\n' },
    { ok: true, text: '{"x":1}\n{"x":19.80043021}\n' },
  );
  assert.match(message ?? '', /^web MarketReader\.windowsFrom: different answers\n/);
  assert.match(message ?? '', /\{"x":19\.800430210000002\}[\s\S]*\{"x":19\.80043021\}/);
  assert.match(message ?? '', /first difference at row 2 \(in answer order\)/);
  assert.match(compare({}, { ok: true, text: '{"x":1}\n' }, { ok: true, text: '' }) ?? '', /\(1 vs 0 rows\)/);
  assert.match(compare({}, { ok: true, text: '{"x":1}\n' }, { ok: true, text: 'x\n' }) ?? '', /not JSONEachRow/);
});

test('what may legitimately differ between versions is normalised; nothing else', () => {
  const same = (a: string, b: string, statement: Partial<ComparedStatement> = {}) =>
    compare(statement, { ok: true, text: a }, { ok: true, text: b });
  // 64-bit integers as strings or numbers.
  assert.equal(same('{"id":"12009","n":"3"}\n', '{"id":12009,"n":3}\n'), undefined);
  // The same double in another text form.
  assert.equal(same('1e-8\t10000000000\tnan\n', '0.00000001\t1e10\tnan\n', { format: 'TabSeparated' }), undefined);
  // Rows in another order, only without ORDER BY.
  assert.equal(same('{"x":1}\n{"x":2}\n', '{"x":2}\n{"x":1}\n', { sql: 'SELECT x FROM t GROUP BY x' }), undefined);
  assert.notEqual(same('{"x":1}\n{"x":2}\n', '{"x":2}\n{"x":1}\n'), undefined);
  // Floats exactly: one ulp, -0, a digit string that is text, a column name.
  assert.notEqual(same('{"x":0.30000000000000004}\n', '{"x":0.3}\n'), undefined);
  assert.notEqual(same('0\n', '-0\n', { format: 'TabSeparated' }), undefined);
  assert.notEqual(same('{"s":"a"}\n', '{"s":"b"}\n'), undefined);
  assert.notEqual(same('{"x":1}\n', '{"y":1}\n'), undefined);
  // Statements without a result: both succeeding is all there is.
  assert.equal(same('', '', { format: 'none' }), undefined);
});

test('normalisedRows keys integers by their digits and floats by their double', () => {
  assert.deepEqual(normalisedRows('JSONEachRow', '{"a":"18446744073709551615","b":0.5}\n', true), [
    '[["a","int:18446744073709551615"],["b","float:0.5"]]',
  ]);
  assert.deepEqual(normalisedRows('TabSeparated', 'BTCUSDT\t2024-05-01 12:00:00\t-inf\n', true), [
    '["str:BTCUSDT","str:2024-05-01 12:00:00","float:-Infinity"]',
  ]);
});
