import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName } from '@candleflow/common/testing';
import { ClickhouseSource } from '../server/clickhouse-source.js';
import { OrderbookService } from '../server/orderbook-service.js';

const database = uniqueName('web_books');
const source = new ClickhouseSource({
  url: testClickhouseUrl,
  database,
  username: 'default',
  password: '',
  timeoutMs: 5000,
});
let queries = 0;
source.onOutcome = () => queries++;
const symbols = ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'];

before(async () => {
  await migrate({ url: testClickhouseUrl, database });
  const db = createClient({ url: testClickhouseUrl, database });
  await db.insert({
    table: 'orderbook_snapshots',
    values: symbols.flatMap((symbol, i) => [
      { symbol, last_update_id: 10 + i, snapshot_time_ms: 1000, side: 'bid', price: 100 + i, qty: 1 },
      { symbol, last_update_id: 10 + i, snapshot_time_ms: 1000, side: 'ask', price: 101 + i, qty: 2 },
    ]),
    format: 'JSONEachRow',
  });
  await db.close();
});

after(async () => {
  await source.close();
  const admin = createClient({ url: testClickhouseUrl });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
});

test('a symbol without a snapshot leaves nothing behind, however often it is asked for', async () => {
  const books = new OrderbookService(source, { maxSymbols: 10 });
  const names = Array.from({ length: 50 }, (_, i) => `NOPE${i}USDT`);
  const answers = await Promise.all([...names, ...names].map((symbol) => books.top(symbol, 5)));
  assert.ok(answers.every((a) => a === undefined));
  assert.equal(books.size, 0);
  assert.deepEqual((await books.top('AAAUSDT', 5))?.bids, [[100, 1]]);
  assert.equal(books.size, 1);
});

test('concurrent first reads of one book share one catch-up', async () => {
  const books = new OrderbookService(source);
  const before = queries;
  const answers = await Promise.all(Array.from({ length: 20 }, () => books.top('BBBUSDT', 5)));
  assert.ok(answers.every((a) => a?.lastUpdateId === 11));
  // Snapshot head, its levels, the updates after it: one catch-up, whoever asked.
  assert.equal(queries - before, 3);
});

test('holds at most maxSymbols books, dropping the least recently used, and reads a dropped one again', async () => {
  const books = new OrderbookService(source, { maxSymbols: 2, maxAgeMs: 60_000 });
  for (const symbol of symbols) await books.top(symbol, 5);
  assert.equal(books.size, 2);
  const before = queries;
  assert.equal((await books.top('CCCUSDT', 5))?.lastUpdateId, 12);
  assert.equal(queries, before, 'a held book within maxAgeMs needs no query');
  const again = await books.top('AAAUSDT', 5);
  assert.deepEqual([again?.lastUpdateId, again?.asks], [10, [[101, 2]]]);
  assert.ok(queries > before, 'the dropped book was read again');
  assert.equal(books.size, 2);
});
