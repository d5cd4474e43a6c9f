import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { testClickhouseUrl } from '@candleflow/common/testing';
import { numberLiteral, sql } from '../server/sql.js';

const client = createClient({ url: testClickhouseUrl });
after(() => client.close());

const nasty = [
  "'",
  "\\'",
  "x' OR '1'='1",
  '\\',
  'a\\\\b',
  '\\x41 is not A',
  "'; DROP TABLE trades; --",
  'line\nbreak\r\n',
  'tab\there',
  'nul\0byte',
  '\u0001\u0007\u001b\u007f',
  'é – 中 😀',
  '{x:String}',
];

test('ClickHouse reads every string literal back as the original string', async () => {
  for (const value of nasty) {
    const rows = await (
      await client.query({ query: sql`SELECT ${value} AS s`.toString(), format: 'JSONEachRow' })
    ).json<{ s: string }>();
    assert.deepEqual(rows, [{ s: value }], JSON.stringify(value));
  }
});

test('ClickHouse reads number literals back as the same numbers', async () => {
  for (const value of [0, 7, -7, 0.25, -1.5e-7, 123_456_789.125, Number.MAX_SAFE_INTEGER]) {
    const rows = await (
      await client.query({ query: `SELECT toFloat64(${numberLiteral(value)}) AS n`, format: 'JSONEachRow' })
    ).json<{ n: number }>();
    assert.deepEqual(rows, [{ n: value }], String(value));
  }
});
