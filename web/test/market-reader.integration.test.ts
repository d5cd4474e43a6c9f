import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName } from '@candleflow/common/testing';
import { ClickhouseSource } from '../server/clickhouse-source.js';
import { MarketReader } from '../server/market-reader.js';
import { sql } from '../server/sql.js';
import { btcLatestStart, btcWindowCount, expectedBtcCandle, t0, windowRowBatches } from './support/fixtures.js';

const database = uniqueName('web_reader');
const source = new ClickhouseSource({
  url: testClickhouseUrl,
  database,
  username: 'default',
  password: '',
  timeoutMs: 5000,
});
const reader = new MarketReader(source, 10_000);

before(async () => {
  await migrate({ url: testClickhouseUrl, database });
  const db = createClient({ url: testClickhouseUrl, database });
  for (const batch of windowRowBatches())
    await db.insert({ table: 'trade_windows', values: batch, format: 'JSONEachRow' });
  await db.close();
});

after(async () => {
  await source.close();
  const admin = createClient({ url: testClickhouseUrl });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
});

test('the JSON text path and the number path read the same candles', async () => {
  const all = Array.from({ length: btcWindowCount }, (_, i) => expectedBtcCandle(i));
  const numbers = await reader.windowsFrom('BTCUSDT', t0);
  const text = await reader.windowsJson('BTCUSDT', t0, btcLatestStart + 10_000);
  assert.deepEqual(numbers, all);
  assert.equal(text.count, btcWindowCount);
  assert.deepEqual(JSON.parse(text.json), all);
  assert.deepEqual(await reader.windowsJson('BTCUSDT', t0 - 60_000, t0), { count: 0, json: '[]' });
});

test('the latest window start follows new windows and knows unknown symbols', async () => {
  assert.equal(await reader.latestWindowStart('BTCUSDT'), btcLatestStart);
  assert.equal(await reader.latestWindowStart('NOPEUSDT'), undefined);
  const db = createClient({ url: testClickhouseUrl, database });
  const next = windowRowBatches()[1]?.at(-1);
  assert.ok(next);
  await db.insert({
    table: 'trade_windows',
    values: [{ ...next, window_start: next.window_start + 10 }],
    format: 'JSONEachRow',
  });
  await db.close();
  assert.equal(await reader.latestWindowStart('BTCUSDT'), btcLatestStart + 10_000);
  assert.deepEqual(
    (await reader.recentWindows('BTCUSDT', 20_000)).map((c) => c.start),
    [btcLatestStart - 10_000, btcLatestStart, btcLatestStart + 10_000],
  );
});

test('numeric rows are checked field by field; rows that fail are left out and reported', async () => {
  const skipped: [number, string][] = [];
  source.onSkippedRows = (count, example) => skipped.push([count, example]);
  try {
    assert.deepEqual(await source.numericLines(sql`SELECT 1, -2.5, 1e-7, toUInt64(18446744073709551615)`, 4), [
      '1\t-2.5\t1e-7\t18446744073709551615',
    ]);
    assert.deepEqual(await source.numberRows(sql`SELECT number + 1, (number + 1) * -2.5 FROM numbers(2)`, 2), [
      [1, -2.5],
      [2, -5],
    ]);
    assert.deepEqual(skipped, []);
    for (const query of [
      sql`SELECT 1, nan`,
      sql`SELECT 1, inf`,
      sql`SELECT 1, -inf`,
      sql`SELECT 1`,
      sql`SELECT 1, 'x'`,
    ]) {
      assert.deepEqual(await source.numericLines(query, 2), [], query.toString());
      assert.deepEqual(await source.numberRows(query, 2), [], query.toString());
    }
    assert.equal(skipped.length, 10);
    skipped.length = 0;
    // One bad row among good ones: the others still come.
    const mixed = sql`SELECT number, if(number = 1, nan, 0.5) FROM numbers(3)`;
    assert.deepEqual(await source.numericLines(mixed, 2), ['0\t0.5', '2\t0.5']);
    assert.deepEqual(await source.numberRows(mixed, 2), [
      [0, 0.5],
      [2, 0.5],
    ]);
    assert.deepEqual(skipped, [
      [1, '1\tnan'],
      [1, '1\tnan'],
    ]);
  } finally {
    source.onSkippedRows = () => undefined;
  }
});
