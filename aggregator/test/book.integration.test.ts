import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import type { PriceLevel } from '@candleflow/common/binance-events';
import { canonicalDecimal } from '@candleflow/common/decimal';
import { OrderBook } from '@candleflow/common/order-book';
import { waitUntil } from '@candleflow/common/testing';
import { startAggregator, type Aggregator } from '../src/aggregator.js';
import { bookAtTime, bookAtUpdateId } from '../src/book-from-clickhouse.js';
import { randomDecimal, seededRandom } from './support/reference-windows.js';
import {
  countFinal,
  createTestEnv,
  metricValue,
  produce,
  T0,
  type RawMessage,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
let aggregator: Aggregator | undefined;

before(async () => {
  env = await createTestEnv('book');
});
after(async () => {
  await aggregator?.stop();
  await env.close();
});

interface DepthEvent {
  e: 'depthSnapshot' | 'depthUpdate';
  s: string;
  E: number;
  lastUpdateId?: number;
  bids?: PriceLevel[];
  asks?: PriceLevel[];
  U?: number;
  u?: number;
  b?: PriceLevel[];
  a?: PriceLevel[];
}

/**
 * A symbol's depth topic as the producer writes it: a snapshot, diffs that change, add and
 * remove levels, a re-sync (new snapshot of the true book, then a diff straddling it), and
 * optionally one diff that skips ids with no snapshot.
 */
function depthStream(symbol: string, seed: number, mid: number, withGap: boolean): DepthEvent[] {
  const random = seededRandom(seed);
  const truth = new OrderBook(symbol);
  const price = (side: 'bid' | 'ask'): string => {
    const offset = 1 + Math.floor(random() * 40);
    // Canonical, so that a price is the same key here and in the book's maps.
    return canonicalDecimal((side === 'bid' ? mid - offset * 0.5 : mid + offset * 0.5).toFixed(2));
  };
  const initial = (side: 'bid' | 'ask'): PriceLevel[] =>
    Array.from({ length: 20 }, () => [price(side), randomDecimal(random, 0.001, 5)] as PriceLevel);
  let updateId = 5_000;
  let time = T0;
  const events: DepthEvent[] = [];
  const snapshot = (): void => {
    const levels = truth.levels();
    events.push({
      e: 'depthSnapshot',
      s: symbol,
      E: time,
      lastUpdateId: updateId,
      bids: levels.bids,
      asks: levels.asks,
    });
  };
  truth.loadSnapshot(updateId, initial('bid'), initial('ask'));
  snapshot();
  for (let i = 0; i < 150; i++) {
    // Up to three levels per side, each price once (as Binance sends them): changes,
    // removals (qty 0) and new levels.
    const levels = (side: 'bid' | 'ask'): PriceLevel[] => {
      const chosen = new Map<string, string>();
      for (let n = Math.floor(random() * 4); n > 0; n--) {
        const existing = [...(side === 'bid' ? truth.bids : truth.asks).keys()];
        const p =
          random() < 0.5 && existing.length > 0
            ? (existing[Math.floor(random() * existing.length)] ?? price(side))
            : price(side);
        chosen.set(p, random() < 0.3 ? '0.00000000' : randomDecimal(random, 0.00000001, 5));
      }
      return [...chosen.entries()];
    };
    const b = levels('bid');
    const a = levels('ask');
    const skip = withGap && i === 40 ? 7 : 0;
    const U = updateId + 1 + skip;
    updateId = U + Math.floor(random() * 3);
    time += 100;
    truth.applyDiff(updateId, b, a);
    events.push({ e: 'depthUpdate', s: symbol, E: time, U, u: updateId, b, a });
    if (i === 90) {
      // Re-sync: the snapshot is a little ahead of the last diff sent; the next diff straddles it.
      const ahead = updateId + 2;
      updateId = ahead;
      snapshot();
      const next: DepthEvent = {
        e: 'depthUpdate',
        s: symbol,
        E: time + 50,
        U: ahead - 1,
        u: ahead + 1,
        b: [[price('bid'), '1.5']],
        a: [],
      };
      updateId = ahead + 1;
      truth.applyDiff(updateId, next.b ?? [], []);
      events.push(next);
    }
  }
  return events;
}

test('the book rebuilt from ClickHouse equals the book rebuilt from the depth topic, at every update id', async () => {
  const streams = {
    BTCUSDT: depthStream('BTCUSDT', 3, 65_000, false),
    ETHUSDT: depthStream('ETHUSDT', 4, 3_000, true),
  };
  const messages: RawMessage[] = [];
  const longest = Math.max(...Object.values(streams).map((s) => s.length));
  for (let i = 0; i < longest; i++) {
    for (const [symbol, events] of Object.entries(streams)) {
      const event = events[i];
      if (event) messages.push({ key: symbol, value: JSON.stringify(event) });
    }
  }

  // Expected: replay the topic with the shared OrderBook, noting the book after each event.
  const expected: { symbol: string; updateId: number; time: number; levels: ReturnType<OrderBook['levels']> }[] = [];
  let expectedUpdateRows = 0;
  let expectedSnapshotRows = 0;
  for (const [symbol, events] of Object.entries(streams)) {
    const book = new OrderBook(symbol);
    for (const event of events) {
      if (event.e === 'depthSnapshot') {
        book.loadSnapshot(event.lastUpdateId ?? 0, event.bids ?? [], event.asks ?? []);
        expectedSnapshotRows += (event.bids?.length ?? 0) + (event.asks?.length ?? 0);
      } else {
        book.applyDiff(event.u ?? 0, event.b ?? [], event.a ?? []);
        expectedUpdateRows += (event.b?.length ?? 0) + (event.a?.length ?? 0);
      }
      expected.push({ symbol, updateId: book.lastUpdateId, time: event.E, levels: book.levels() });
    }
  }

  aggregator = await startAggregator(env.config);
  await produce(env.producer, env.topics.depth, messages);
  let counts = [0, 0];
  await waitUntil(
    'every order-book row',
    async () => {
      counts = [await countFinal(env, 'orderbook_updates'), await countFinal(env, 'orderbook_snapshots')];
      return counts[0] === expectedUpdateRows && counts[1] === expectedSnapshotRows;
    },
    {
      timeoutMs: 60_000,
      describe: () =>
        `updates ${counts[0]}/${expectedUpdateRows}, snapshot levels ${counts[1]}/${expectedSnapshotRows}`,
    },
  );

  const dbClient = createClient({ url: env.config.CLICKHOUSE_URL, database: env.db });
  try {
    for (const point of expected) {
      const book = await bookAtUpdateId(dbClient, point.symbol, point.updateId);
      assert.ok(book, `${point.symbol}@${point.updateId}: a snapshot at or before`);
      assert.deepEqual(book.levels(), point.levels, `${point.symbol} at update id ${point.updateId}`);
    }
    const last = expected.filter((p) => p.symbol === 'BTCUSDT').at(-1);
    assert.ok(last);
    assert.deepEqual((await bookAtTime(dbClient, 'BTCUSDT', last.time))?.levels(), last.levels, 'book at a time');
    assert.equal(await bookAtUpdateId(dbClient, 'BTCUSDT', 4_999), undefined, 'before the first snapshot');
  } finally {
    await dbClient.close();
  }

  assert.equal(await metricValue(aggregator.port, 'aggregator_depth_gaps_total', { symbol: 'ETHUSDT' }), 1);
  assert.equal(await metricValue(aggregator.port, 'aggregator_depth_gaps_total', { symbol: 'BTCUSDT' }), 0);
  assert.equal(await metricValue(aggregator.port, 'aggregator_depth_resyncs_total'), 2);
});
