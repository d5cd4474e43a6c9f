/**
 * The whole pipeline on real servers: simulator -> producer (node-rdkafka, lz4) -> Kafka
 * -> aggregator (KafkaJS) -> ClickHouse. The windows in `trade_windows FINAL` must equal
 * windows computed here, independently, from the trades the simulator sent; the trades
 * table must hold each of them once; the book rebuilt from ClickHouse must equal the
 * simulator's true book.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { bookAtUpdateId } from '@candleflow/aggregator/book-from-clickhouse';
import { testClickhouseUrl, waitUntil } from '@candleflow/common/testing';
import { createClient } from '@clickhouse/client';
import { readWindows } from '../aggregator/test/support/harness.js';
import { assertWindowsMatch, referenceWindows } from '../aggregator/test/support/reference-windows.js';
import { startPipeline, type Pipeline } from './support/pipeline.js';

const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const client = createClient({ url: testClickhouseUrl, database: 'system' });
let pipeline: Pipeline | undefined;

after(async () => {
  await pipeline?.close();
  await client.close();
});

test(
  'trades from the simulator become the right windows, trades and book in ClickHouse',
  { timeout: 180_000 },
  async () => {
    pipeline = await startPipeline({ symbols, rate: 400, seed: 11, maxMessages: 4000 });
    const { sim: current, sent, database } = pipeline;
    await waitUntil(
      'the simulator to send its 4000 frames',
      () => current.stats().trades + current.stats().depth >= 4000,
      {
        timeoutMs: 60_000,
        describe: () => JSON.stringify(current.stats()),
      },
    );
    const expected = referenceWindows(
      sent.map((t) => ({ symbol: t.s, id: t.t, price: t.p, qty: t.q, timeMs: t.T, buyerIsMaker: t.m })),
      10,
    );
    assert.ok(expected.length >= symbols.length, `only ${expected.length} windows`);

    const query = async <T>(sql: string): Promise<T[]> =>
      (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
    const stored = await waitUntil(
      `every one of the ${expected.length} windows final in ClickHouse`,
      async () => {
        const rows = await readWindows({ clickhouse: client, db: database }).catch(() => []);
        const complete = rows.every((r, i) => r.isFinal && r.trades === expected[i]?.trades);
        return rows.length === expected.length && complete ? rows : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assertWindowsMatch(stored, expected);

    const [counts] = await query<{ n: string; distinct_ids: string }>(
      `SELECT count() AS n, uniqExact(symbol, trade_id) AS distinct_ids FROM ${database}.trades FINAL`,
    );
    assert.deepEqual([Number(counts?.n), Number(counts?.distinct_ids)], [sent.length, sent.length]);

    const bookClient = createClient({ url: testClickhouseUrl, database });
    try {
      for (const symbol of symbols) {
        const truth = current.book(symbol);
        const rebuilt = await waitUntil(`the ${symbol} book at ${truth.lastUpdateId} in ClickHouse`, async () => {
          const book = await bookAtUpdateId(bookClient, symbol, truth.lastUpdateId);
          return book && JSON.stringify(book.levels()) === JSON.stringify(truth.levels()) ? book : undefined;
        });
        assert.deepEqual(rebuilt.levels(), truth.levels());
      }
    } finally {
      await bookClient.close();
    }
  },
);
