import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { depthSnapshotEventSchema } from '@candleflow/common/binance-events';
import { waitUntil } from '@candleflow/common/testing';
import { parseFrame } from '../src/binance-frames.js';
import type { StreamEvent } from '../src/binance-stream.js';
import type { OutgoingMessage } from '../src/kafka-sink.js';
import { createProducerMetrics } from '../src/metrics.js';
import { Publisher, type MessageSink, type SnapshotSource, type TradeRepair } from '../src/publisher.js';
import type { DepthSnapshot } from '../src/snapshot-fetcher.js';
import { TradeContinuity, type IdRange } from '../src/trade-continuity.js';
import { captureLogger } from './support/harness.js';

const topics = { trades: 'trades', depth: 'depth' };

/** Routing is tested here with an in-memory sink; the Kafka side has its own tests against the real broker. */
class MemorySink implements MessageSink {
  /** Values as text: stream data arrives as bytes, snapshots as text. */
  readonly messages: (OutgoingMessage & { value: string })[] = [];
  refuse = false;
  send(message: OutgoingMessage): boolean {
    if (this.refuse) return false;
    this.messages.push({ ...message, value: message.value.toString() });
    return true;
  }
  waitForRoom(): Promise<void> {
    return Promise.resolve();
  }
}

class ManualSnapshots implements SnapshotSource {
  readonly requests: { symbol: string; answer: (s: Omit<DepthSnapshot, 'symbol'>) => void }[] = [];
  fetch(symbol: string): Promise<DepthSnapshot> {
    return new Promise((resolve) => {
      this.requests.push({ symbol, answer: (s) => resolve({ symbol, ...s }) });
    });
  }
  /** Waits for request number `index` (0-based) and answers it. */
  async answer(index: number, snapshot: Omit<DepthSnapshot, 'symbol'>): Promise<void> {
    const request = await waitUntil(`snapshot request ${index + 1}`, () => this.requests[index]);
    request.answer(snapshot);
  }
}

/** What the publisher handed to the repair, in order. */
class RecordingRepair implements TradeRepair {
  readonly calls: string[] = [];
  addHole(symbol: string, range: IdRange): void {
    this.calls.push(`hole ${symbol} ${range.from}-${range.to}`);
  }
  addBackfill(symbol: string, sinceMs: number, beforeId: number): void {
    this.calls.push(`backfill ${symbol} since ${sinceMs} before ${beforeId}`);
  }
}

function setup() {
  const sink = new MemorySink();
  const snapshots = new ManualSnapshots();
  const registry = new Registry();
  const metrics = createProducerMetrics(registry);
  const { logger, lines } = captureLogger();
  const continuity = new TradeContinuity();
  const repair = new RecordingRepair();
  const publisher = new Publisher({ topics, sink, snapshots, continuity, repair, metrics, logger });
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const { values } = await (
      registry.getSingleMetric(name) as NonNullable<ReturnType<Registry['getSingleMetric']>>
    ).get();
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((n, v) => n + v.value, 0);
  };
  return { sink, snapshots, publisher, continuity, repair, logs: lines, value };
}

function frame(text: string, receivedAt = 1000): StreamEvent {
  const parsed = parseFrame(Buffer.from(text));
  if (!parsed.ok) return { type: 'malformed', kind: parsed.kind, reason: parsed.reason, stream: parsed.stream };
  if (parsed.message.kind === 'server-shutdown') return { type: 'server-shutdown', symbols: ['BTCUSDT'] };
  return { type: 'message', message: parsed.message, receivedAt };
}

const tradeFrame = (t: number): string =>
  `{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":${t},"p":"1.5","q":"2","T":1,"m":true}}`;
const depthData = (U: number, u: number): string =>
  `{"e":"depthUpdate","E":${u},"s":"BTCUSDT","U":${U},"u":${u},"b":[["100.0","${u}"]],"a":[]}`;
const depthFrame = (U: number, u: number): string => `{"stream":"btcusdt@depth@100ms","data":${depthData(U, u)}}`;

test('trades go to the trades topic as received, keyed by symbol, with the receive time', () => {
  const { sink, publisher } = setup();
  publisher.handle(frame(tradeFrame(5), 1234));
  assert.deepEqual(sink.messages, [
    {
      topic: 'trades',
      key: 'BTCUSDT',
      value: '{"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.5","q":"2","T":1,"m":true}',
      receivedAt: 1234,
      tradeId: 5,
    },
  ]);
});

test('depth: a snapshot is fetched, published first, then only the diffs that extend it', async () => {
  const { sink, snapshots, publisher, value } = setup();
  publisher.handle(frame(depthFrame(1, 3), 10));
  publisher.handle(frame(depthFrame(4, 6), 11));
  await waitUntil('a snapshot request', () => snapshots.requests.length === 1);
  assert.equal(sink.messages.length, 0);
  await snapshots.answer(0, { lastUpdateId: 4, bids: [['100.0', '4']], asks: [['101.0', '1']], receivedAt: 12 });
  await waitUntil('the snapshot and the diff', () => sink.messages.length === 2);
  publisher.handle(frame(depthFrame(7, 7), 13));
  assert.deepEqual(
    sink.messages.map((m) => [m.topic, m.key, m.receivedAt]),
    [
      ['depth', 'BTCUSDT', 12],
      ['depth', 'BTCUSDT', 11],
      ['depth', 'BTCUSDT', 13],
    ],
  );
  assert.deepEqual(depthSnapshotEventSchema.parse(JSON.parse(sink.messages[0]?.value ?? '')), {
    e: 'depthSnapshot',
    E: 12,
    s: 'BTCUSDT',
    lastUpdateId: 4,
    bids: [['100.0', '4']],
    asks: [['101.0', '1']],
  });
  assert.deepEqual(
    sink.messages.slice(1).map((m) => m.value),
    [depthData(4, 6), depthData(7, 7)],
  );
  assert.equal(await value('producer_snapshots_total', { result: 'published' }), 1);
});

test('malformed frames are counted per kind and logged once per kind and minute, never published', async () => {
  const { sink, publisher, logs, value } = setup();
  publisher.handle(frame('not json'));
  publisher.handle(frame('also not json'));
  publisher.handle(frame('{"stream":"btcusdt@trade","data":{"e":"trade"}}'));
  publisher.handle(frame(tradeFrame(9)));
  assert.equal(await value('producer_malformed_frames_total', { kind: 'not-json' }), 2);
  assert.equal(await value('producer_malformed_frames_total', { kind: 'invalid-trade' }), 1);
  assert.deepEqual(
    logs.filter((l) => l.level === 40).map((l) => l.kind),
    ['not-json', 'invalid-trade'],
  );
  assert.equal(sink.messages.length, 1);
});

test('a diff Kafka cannot take ends the synced segment; the next diff brings a new snapshot', async () => {
  const { sink, snapshots, publisher, value } = setup();
  publisher.handle(frame(depthFrame(1, 1)));
  await snapshots.answer(0, { lastUpdateId: 1, bids: [], asks: [], receivedAt: 1 });
  await waitUntil('synced', () => sink.messages.length === 1);
  sink.refuse = true;
  publisher.handle(frame(depthFrame(2, 2)));
  sink.refuse = false;
  publisher.handle(frame(depthFrame(3, 3)));
  assert.equal(await value('producer_resyncs_total', { reason: 'publish-failed' }), 1);
  await waitUntil('a second snapshot request', () => snapshots.requests.length === 2);
  await snapshots.answer(1, { lastUpdateId: 3, bids: [], asks: [], receivedAt: 2 });
  publisher.handle(frame(depthFrame(4, 4)));
  await waitUntil('resynced', () => sink.messages.length === 3);
  assert.deepEqual(
    sink.messages.map((m) => JSON.parse(m.value) as { e: string; u?: number; lastUpdateId?: number }),
    [
      { e: 'depthSnapshot', E: 1, s: 'BTCUSDT', lastUpdateId: 1, bids: [], asks: [] },
      { e: 'depthSnapshot', E: 2, s: 'BTCUSDT', lastUpdateId: 3, bids: [], asks: [] },
      JSON.parse(depthData(4, 4)) as unknown,
    ],
  );
});

test('a reconnect resyncs every symbol of the connection; a failed depth delivery resyncs its symbol', async () => {
  const { sink, snapshots, publisher, value } = setup();
  publisher.handle(frame(depthFrame(1, 1)));
  await snapshots.answer(0, { lastUpdateId: 1, bids: [], asks: [], receivedAt: 1 });
  await waitUntil('synced', () => sink.messages.length === 1);
  publisher.handle({ type: 'reconnected', symbols: ['BTCUSDT', 'ETHUSDT'] });
  assert.equal(await value('producer_reconnects_total'), 1);
  assert.equal(await value('producer_resyncs_total', { reason: 'reconnect' }), 1);
  publisher.handle(frame(depthFrame(5, 5)));
  await snapshots.answer(1, { lastUpdateId: 5, bids: [], asks: [], receivedAt: 1 });
  await waitUntil('synced again', () => sink.messages.length === 2);
  publisher.onDeliveryFailed({ topic: 'depth', key: 'BTCUSDT', value: '', receivedAt: 1 }, 'Broker: Message too large');
  assert.equal(await value('producer_resyncs_total', { reason: 'publish-failed' }), 1);
  publisher.onDeliveryFailed(
    { topic: 'trades', key: 'BTCUSDT', value: '', receivedAt: 1 },
    'Broker: Message too large',
  );
  assert.equal(await value('producer_resyncs_total'), 2);
});

test('a trade id that skips ahead counts as a trade gap and sends the missed ids to the repair', async () => {
  const { publisher, sink, repair, value } = setup();
  publisher.handle(frame(tradeFrame(1)));
  publisher.handle(frame(tradeFrame(2)));
  publisher.handle(frame(tradeFrame(5)));
  assert.equal(await value('producer_sequence_gaps_total', { stream: 'trade' }), 1);
  assert.deepEqual(repair.calls, ['hole BTCUSDT 3-4']);
  assert.deepEqual(
    sink.messages.map((m) => m.tradeId),
    [1, 2, 5],
  );
});

test('a trade at or below the last published id is skipped and counted, never sent twice', async () => {
  const { publisher, sink, continuity, repair, value } = setup();
  continuity.start('BTCUSDT', { kind: 'after', lastId: 10 });
  publisher.handle(frame(tradeFrame(9)));
  publisher.handle(frame(tradeFrame(10)));
  publisher.handle(frame(tradeFrame(11)));
  publisher.handle(frame(tradeFrame(11)));
  assert.deepEqual(
    sink.messages.map((m) => m.tradeId),
    [11],
  );
  assert.equal(await value('producer_trades_skipped_total'), 3);
  assert.equal(await value('producer_messages_in_total', { stream: 'trade' }), 4);
  assert.deepEqual(repair.calls, []);
});

test('restart: the first streamed trade past the topic tail sends the ids in between to the repair', () => {
  const { publisher, continuity, repair } = setup();
  continuity.start('BTCUSDT', { kind: 'after', lastId: 10 });
  publisher.handle(frame(tradeFrame(500)));
  assert.deepEqual(repair.calls, ['hole BTCUSDT 11-499']);
});

test('a symbol new to the topic: its first streamed trade asks for its history up to that trade', () => {
  const { publisher, continuity, repair } = setup();
  continuity.start('BTCUSDT', { kind: 'since', ms: 777 });
  publisher.handle(frame(tradeFrame(500)));
  publisher.handle(frame(tradeFrame(501)));
  assert.deepEqual(repair.calls, ['backfill BTCUSDT since 777 before 500']);
});

test('a trade the sink refuses, or Kafka does not take, goes to the repair', () => {
  const { publisher, sink, repair } = setup();
  publisher.handle(frame(tradeFrame(1)));
  sink.refuse = true;
  publisher.handle(frame(tradeFrame(2)));
  sink.refuse = false;
  publisher.handle(frame(tradeFrame(3)));
  publisher.onDeliveryFailed(sink.messages[1] as OutgoingMessage, 'Broker: Message too large');
  assert.deepEqual(repair.calls, ['hole BTCUSDT 2-2', 'hole BTCUSDT 3-3']);
});

test('a serverShutdown event is counted and changes no book', async () => {
  const { publisher, sink, snapshots, value } = setup();
  publisher.handle(frame(depthFrame(1, 1)));
  await snapshots.answer(0, { lastUpdateId: 1, bids: [], asks: [], receivedAt: 1 });
  await waitUntil('synced', () => sink.messages.length === 1);
  publisher.handle(frame('{"e":"serverShutdown","E":1}'));
  publisher.handle(frame(depthFrame(2, 2)));
  assert.equal(await value('producer_server_shutdowns_total'), 1);
  assert.equal(await value('producer_resyncs_total'), 0);
  assert.equal(sink.messages.length, 2);
});
