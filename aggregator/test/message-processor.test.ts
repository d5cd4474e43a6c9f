import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatUnits } from '@candleflow/common/decimal';
import { Registry } from 'prom-client';
import { tradeRowJson } from '../src/clickhouse-records.js';
import { MessageProcessor } from '../src/message-processor.js';
import { createAggregatorMetrics } from '../src/metrics.js';
import type { TradeMessage } from '../src/topic-messages.js';
import { TumblingWindows } from '../src/tumbling-window.js';
import { BatchAccumulator } from '../src/write-batch.js';

const T0 = 1_714_521_600_000;
const topics = { trades: 'binance.trades', depth: 'binance.depth' };

function setup() {
  const registry = new Registry();
  const metrics = createAggregatorMetrics(registry);
  const engine = new TumblingWindows({ windowMs: 10_000, graceMs: 2000, idleMs: 3000 });
  const out = new BatchAccumulator({ batchRows: 1000, flushMs: 1000 }, 0);
  const processor = new MessageProcessor(topics, engine, out, metrics, 200);
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return sample?.value ?? 0;
  };
  return { engine, out, processor, value };
}

/** A record as KafkaJS gives it: keyed by the value's symbol, written a minute after T0. */
const message = (offset: number, value: unknown, headers: Record<string, string> = { receive_time_ms: '1' }) => ({
  offset,
  key: Buffer.from((value as { s?: string } | null)?.s ?? 'BTCUSDT'),
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  timestampMs: T0 + 60_000,
  headers,
});
const text = (header: string | Buffer | undefined): string | undefined => header?.toString();
/** A trade's `trades` row, by its column names. */
const row = (trade: TradeMessage): Record<string, number | string> =>
  JSON.parse(tradeRowJson(trade)) as Record<string, number | string>;

const tradeEvent = (t: number, T: number, m = false) => ({
  e: 'trade',
  E: T + 1,
  s: 'BTCUSDT',
  t,
  p: '100.5',
  q: '2',
  T,
  m,
});

test('trades become trades rows and feed the windows; duplicates and late trades are counted', async () => {
  const { engine, out, processor, value } = setup();
  processor.process(topics.trades, 0, message(5, tradeEvent(1, T0)), 0);
  processor.process(topics.trades, 0, message(6, tradeEvent(1, T0)), 0);
  processor.process(topics.trades, 0, message(7, tradeEvent(2, T0 + 12_000, true)), 0);
  processor.process(topics.trades, 0, message(8, tradeEvent(3, T0 + 3), { source: 'rest' }), 0);
  const batch = out.cut([], 0);
  assert.deepEqual(
    batch.records.trades
      .map(row)
      .map((r) => [
        r.trade_id,
        String(r.price),
        String(r.qty),
        r.trade_time_ms,
        r.event_time_ms,
        r.is_buyer_maker,
        r.from_rest,
      ]),
    [
      [1, '100.5', '2', T0, T0 + 1, 0, 0],
      [1, '100.5', '2', T0, T0 + 1, 0, 0],
      [2, '100.5', '2', T0 + 12_000, T0 + 12_001, 1, 0],
      [3, '100.5', '2', T0 + 3, T0 + 4, 0, 1],
    ],
  );
  assert.deepEqual(
    engine.takeFinalRows().map((r) => [r.windowStartMs, r.trades]),
    [[T0, 1]],
  );
  assert.deepEqual(engine.takeLateWindows(), [{ symbol: 'BTCUSDT', windowStartMs: T0 }]);
  assert.equal(processor.firstNeededOffset(topics.trades, 0), 7);
  assert.equal(await value('aggregator_duplicate_trades_total'), 1);
  assert.equal(await value('aggregator_late_trades_total'), 1);
});

test('depth events become order-book rows; gaps and resyncs are counted per symbol', async () => {
  const { out, processor, value } = setup();
  const snap = {
    e: 'depthSnapshot',
    E: T0,
    s: 'BTCUSDT',
    lastUpdateId: 10,
    bids: [['1.0', '1.0']],
    asks: [['2.0', '1.0']],
  };
  processor.process(topics.depth, 1, message(0, snap), 0);
  processor.process(
    topics.depth,
    1,
    message(1, { e: 'depthUpdate', E: T0, s: 'BTCUSDT', U: 9, u: 12, b: [['1.0', '0']], a: [] }),
    0,
  );
  processor.process(
    topics.depth,
    1,
    message(2, { e: 'depthUpdate', E: T0, s: 'BTCUSDT', U: 20, u: 21, b: [], a: [['3.0', '1']] }),
    0,
  );
  processor.process(topics.depth, 1, message(3, { ...snap, lastUpdateId: 30 }), 0);
  const batch = out.cut([], 0);
  assert.equal(batch.records.orderbook_snapshots.length, 4);
  assert.deepEqual(
    batch.records.orderbook_updates.map((r) => [r.last_update_id, r.side, formatUnits(r.price), formatUnits(r.qty)]),
    [
      [12, 'bid', '1', '0'],
      [21, 'ask', '3', '1'],
    ],
  );
  assert.equal(await value('aggregator_depth_gaps_total', { symbol: 'BTCUSDT' }), 1);
  assert.equal(await value('aggregator_depth_resyncs_total', { symbol: 'BTCUSDT' }), 1);
  assert.equal(processor.firstNeededOffset(topics.depth, 1), undefined);
});

test('unreadable messages become dead letters with the reason and where they came from', async () => {
  const { out, processor, value } = setup();
  processor.process(topics.trades, 2, message(40, 'not json'), 0);
  processor.process(topics.depth, 3, message(41, { e: 'depthUpdate', s: 'BTCUSDT' }), 0);
  processor.process(topics.trades, 2, message(42, null), 0);
  const batch = out.cut([], 0);
  assert.deepEqual(batch.records.trades, []);
  assert.deepEqual(
    batch.dlq.map((d) => [
      d.sourceTopic,
      d.value?.toString() ?? null,
      text(d.headers.dlq_source_partition),
      text(d.headers.dlq_source_offset),
    ]),
    [
      [topics.trades, 'not json', '2', '40'],
      [topics.depth, '{"e":"depthUpdate","s":"BTCUSDT"}', '3', '41'],
      [topics.trades, null, '2', '42'],
    ],
  );
  assert.match(text(batch.dlq[0]?.headers.dlq_reason) ?? '', /^not_json: not JSON/);
  assert.match(text(batch.dlq[1]?.headers.dlq_reason) ?? '', /^schema: not a depthUpdate or depthSnapshot event: /);
  assert.equal(text(batch.dlq[2]?.headers.dlq_reason), 'empty: empty message');
  assert.equal(text(batch.dlq[0]?.headers.receive_time_ms), '1', 'original headers are kept');
  assert.equal(await value('aggregator_dlq_messages_total', { topic: topics.trades, reason: 'not_json' }), 1);
  assert.equal(await value('aggregator_dlq_messages_total', { topic: topics.trades, reason: 'empty' }), 1);
  assert.equal(await value('aggregator_dlq_messages_total', { topic: topics.depth, reason: 'schema' }), 1);
});

test('contract breaches never reach a row or a window, and their dead letters stay small', async () => {
  const { engine, out, processor, value } = setup();
  const manyBadLevels = {
    e: 'depthUpdate',
    E: T0,
    s: 'BTCUSDT',
    U: 1,
    u: 2,
    b: Array.from({ length: 20_000 }, () => ['x', 'y']),
    a: [],
  };
  processor.process(topics.trades, 0, { ...message(1, tradeEvent(1, T0)), key: Buffer.from('ETHUSDT') }, 0);
  processor.process(topics.trades, 0, message(2, tradeEvent(2, 0)), 0);
  processor.process(topics.trades, 0, message(3, tradeEvent(3, T0 + 60_000 + 60_001)), 0);
  processor.process(topics.trades, 0, message(4, { ...tradeEvent(4, T0), q: '0.000' }), 0);
  processor.process(topics.trades, 0, message(5, { ...tradeEvent(5, T0), q: '1.123456789' }), 0);
  processor.process(topics.depth, 1, message(6, manyBadLevels), 0);
  processor.process(topics.trades, 0, message(7, tradeEvent(7, T0 + 60_000 + 60_000)), 0);
  const batch = out.cut([], 0);
  assert.deepEqual(
    batch.records.trades.map((r) => row(r).trade_id),
    [7],
    'only the trade a minute ahead of its record, not more, passes',
  );
  assert.deepEqual(batch.records.orderbook_updates, []);
  assert.equal(engine.openWindowCount(), 1);
  assert.deepEqual(
    batch.dlq.map((d) => text(d.headers.dlq_reason)?.split(':')[0]),
    ['key_mismatch', 'time_range', 'time_range', 'not_positive', 'precision', 'schema'],
  );
  const depthLetter = batch.dlq[5];
  assert.ok(depthLetter);
  assert.ok(Buffer.byteLength(text(depthLetter.headers.dlq_reason) ?? '') <= 1024);
  assert.match(text(depthLetter.headers.dlq_reason) ?? '', /and 39997 more issues$/);
  assert.equal(depthLetter.value?.length, 200, 'the value is cut to the configured size');
  assert.equal(text(depthLetter.headers.dlq_truncated_from_bytes), String(JSON.stringify(manyBadLevels).length));
  assert.equal(await value('aggregator_dlq_truncated_total'), 1);
  assert.equal(await value('aggregator_dlq_messages_total', { topic: topics.trades, reason: 'time_range' }), 2);
});

test('dropping a partition forgets its windows and sequence', () => {
  const { engine, processor } = setup();
  processor.process(topics.trades, 0, message(0, tradeEvent(1, T0)), 0);
  processor.dropPartition(topics.trades, 0);
  assert.equal(engine.openWindowCount(), 0);
  assert.equal(processor.firstNeededOffset(topics.trades, 0), undefined);
});

test('messages re-read below the committed processedTo feed the windows only: no rows, no dead letters twice', async () => {
  const { engine, out, processor, value } = setup();
  const replayed = <M extends object>(m: M): M & { replayed: boolean } => ({ ...m, replayed: true });
  processor.process(topics.trades, 0, replayed(message(1, tradeEvent(1, T0))), 0);
  processor.process(topics.trades, 0, replayed(message(2, 'not json')), 0);
  processor.process(topics.depth, 1, replayed(message(3, { e: 'depthUpdate', s: 'BTCUSDT' })), 0);
  processor.process(topics.trades, 0, message(4, tradeEvent(2, T0 + 5)), 0);
  const batch = out.cut([], 0);
  assert.deepEqual(
    batch.records.trades.map((r) => row(r).trade_id),
    [2],
    'the replayed trade is written already',
  );
  assert.deepEqual(batch.dlq, [], 'the replayed bad messages are in the DLQ already');
  assert.equal(await value('aggregator_dlq_messages_total'), 0);
  assert.deepEqual(
    engine.takeOpenRows().map((w) => w.trades),
    [2],
    'the replayed trade is in its window',
  );
});
