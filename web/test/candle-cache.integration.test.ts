import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName, waitUntil } from '@candleflow/common/testing';
import { CandleCache } from '../server/candle-cache.js';
import { ClickhouseSource } from '../server/clickhouse-source.js';
import { MarketReader } from '../server/market-reader.js';
import { btcLatestStart, btcWindowCount, expectedBtcCandle, windowRowBatches } from './support/fixtures.js';

const database = uniqueName('web_cache');
const source = new ClickhouseSource({
  url: testClickhouseUrl,
  database,
  username: 'default',
  password: '',
  timeoutMs: 5000,
});
const db = createClient({ url: testClickhouseUrl, database });
let queries = 0;
source.onOutcome = () => queries++;
const minute = 60_000;

before(async () => {
  await migrate({ url: testClickhouseUrl, database });
  for (const batch of windowRowBatches())
    await db.insert({ table: 'trade_windows', values: batch, format: 'JSONEachRow' });
});

after(async () => {
  await source.close();
  await db.close();
  const admin = createClient({ url: testClickhouseUrl });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
});

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => expectedBtcCandle(from + k));

test('serves the span before the latest window from memory, and nothing older', async () => {
  const cache = new CandleCache(new MarketReader(source, 10_000), {
    spanMs: 10 * minute,
    maxAgeMs: 60_000,
    reloadMs: 60_000,
  });
  const first = await cache.windows('BTCUSDT', (latest) => latest - 5 * minute);
  assert.deepEqual(first, { latest: btcLatestStart, candles: range(btcWindowCount - 31, btcWindowCount) });
  const before = queries;
  const second = await cache.windows('BTCUSDT', (latest) => latest - 2 * minute, btcLatestStart);
  assert.deepEqual(second?.candles, range(btcWindowCount - 13, btcWindowCount - 1));
  assert.equal(queries, before, 'no ClickHouse query');
  assert.equal(await cache.windows('BTCUSDT', (latest) => latest - 11 * minute), undefined, 'older than the span');
  assert.equal(await cache.windows('NOPEUSDT', (latest) => latest), undefined, 'no data');
});

test('catches up with new and rewritten windows, and reloads the span for older rewrites', async () => {
  const cache = new CandleCache(new MarketReader(source, 10_000), {
    spanMs: 10 * minute,
    maxAgeMs: 0,
    catchUpMs: 30_000,
    reloadMs: 500,
  });
  const recentFrom = (latest: number) => latest - 9 * minute;
  assert.equal((await cache.windows('BTCUSDT', recentFrom))?.candles.length, 55);
  const rows = windowRowBatches()[1] ?? [];
  const latestRow = rows[rows.length - 1];
  const oldRow = rows[rows.length - 40];
  assert.ok(latestRow && oldRow);
  await db.insert({
    table: 'trade_windows',
    values: [
      { ...latestRow, window_start: latestRow.window_start + 10, close: 1.5 },
      // Older than the catch-up reaches: only the reload sees it.
      { ...oldRow, close: 2.5, version: oldRow.version + 1 },
    ],
    format: 'JSONEachRow',
  });
  const caughtUp = await cache.windows('BTCUSDT', recentFrom);
  assert.deepEqual(caughtUp?.latest, btcLatestStart + 10_000);
  assert.equal(caughtUp?.candles.at(-1)?.close, 1.5);
  const reloaded = await waitUntil(
    'the reload to bring the rewritten old window',
    async () => {
      const now = await cache.windows('BTCUSDT', recentFrom);
      return now?.candles.find((c) => c.start === oldRow.window_start * 1000 && c.close === 2.5);
    },
    { timeoutMs: 10_000 },
  );
  assert.equal(reloaded.close, 2.5);
});
