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
import type { TradeEvent } from '@candleflow/common/binance-events';
import { testClickhouseUrl, waitUntil } from '@candleflow/common/testing';
import { createClient } from '@clickhouse/client';
import { startPipeline, type Pipeline } from './support/pipeline.js';

const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const client = createClient({ url: testClickhouseUrl, database: 'system' });
let pipeline: Pipeline | undefined;

after(async () => {
  await pipeline?.close();
  await client.close();
});

interface Window {
  symbol: string;
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  buyVolume: number;
  sellVolume: number;
  firstTradeId: number;
  lastTradeId: number;
}

/** 10 s windows by the book: a plain fold over trades sorted by (time, id). */
function referenceWindows(trades: TradeEvent[]): Map<string, Window> {
  const windows = new Map<string, Window>();
  const sorted = [...trades].sort((a, b) => a.T - b.T || a.t - b.t);
  for (const trade of sorted) {
    const start = Math.floor(trade.T / 10_000) * 10;
    const key = `${trade.s}@${start}`;
    const price = Number(trade.p);
    const qty = Number(trade.q);
    const w = windows.get(key) ?? {
      symbol: trade.s,
      start,
      open: price,
      high: price,
      low: price,
      close: price,
      volume: 0,
      quoteVolume: 0,
      trades: 0,
      buyVolume: 0,
      sellVolume: 0,
      firstTradeId: trade.t,
      lastTradeId: trade.t,
    };
    w.high = Math.max(w.high, price);
    w.low = Math.min(w.low, price);
    w.close = price;
    w.volume += qty;
    w.quoteVolume += price * qty;
    w.trades += 1;
    if (trade.m) w.sellVolume += qty;
    else w.buyVolume += qty;
    w.firstTradeId = Math.min(w.firstTradeId, trade.t);
    w.lastTradeId = Math.max(w.lastTradeId, trade.t);
    windows.set(key, w);
  }
  return windows;
}

const close = (actual: number, expected: number): boolean =>
  Math.abs(actual - expected) <= 1e-9 * Math.max(Math.abs(expected), 1e-12);

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
    const expected = referenceWindows(sent);
    assert.ok(expected.size >= symbols.length, `only ${expected.size} windows`);

    const query = async <T>(sql: string): Promise<T[]> =>
      (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
    type Row = Record<string, string | number>;
    const rows = await waitUntil(
      `every one of the ${expected.size} windows final in ClickHouse`,
      async () => {
        const found = await query<Row>(
          `SELECT symbol, toUInt32(window_start) AS start, open, high, low, close, volume, quote_volume, vwap,
                trades, buy_volume, sell_volume, toString(first_trade_id) AS first, toString(last_trade_id) AS last, is_final
         FROM ${database}.trade_windows FINAL ORDER BY symbol, start`,
        ).catch(() => []);
        const final = found.filter(
          (r) => Number(r.is_final) === 1 && Number(r.trades) === expected.get(`${r.symbol}@${r.start}`)?.trades,
        );
        return final.length === expected.size && found.length === expected.size ? found : undefined;
      },
      { timeoutMs: 60_000 },
    );

    for (const row of rows) {
      const want = expected.get(`${row.symbol}@${row.start}`);
      assert.ok(want, `unexpected window ${row.symbol}@${row.start}`);
      const label = `${want.symbol}@${want.start}`;
      assert.deepEqual(
        [
          Number(row.open),
          Number(row.high),
          Number(row.low),
          Number(row.close),
          Number(row.trades),
          Number(row.first),
          Number(row.last),
        ],
        [want.open, want.high, want.low, want.close, want.trades, want.firstTradeId, want.lastTradeId],
        label,
      );
      assert.ok(close(Number(row.volume), want.volume), `${label} volume ${row.volume} vs ${want.volume}`);
      assert.ok(close(Number(row.quote_volume), want.quoteVolume), `${label} quote volume`);
      assert.ok(close(Number(row.vwap), want.quoteVolume / want.volume), `${label} vwap`);
      assert.ok(close(Number(row.buy_volume), want.buyVolume), `${label} buy volume`);
      assert.ok(close(Number(row.sell_volume), want.sellVolume), `${label} sell volume`);
    }

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
