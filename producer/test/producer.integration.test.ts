import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '@candleflow/binance-sim/simulator';
import { depthStream, tradeStream, RECEIVE_TIME_HEADER } from '@candleflow/common/binance-events';
import { startOpsServer } from '@candleflow/common/ops-server';
import { testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import {
  TopicReader,
  assertTopicsAsSent,
  checkDepthTopic,
  deleteTopics,
  assertEveryTradeOnce,
  recordSimulator,
  startTestProducer,
} from './support/harness.js';

const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

test('simulator to Kafka: every frame once, in order per symbol; the depth topic alone rebuilds the true book', async (t) => {
  const total = 3000;
  const sim = await startSimulator({ source: { kind: 'synthetic', symbols, rate: 500, seed: 11, maxMessages: total } });
  t.after(() => sim.close());
  const recording = recordSimulator(sim);
  const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
  t.after(() => deleteTopics(testKafkaBrokers, [topics.trades, topics.depth]));
  const { producer, registry, metric, logs } = await startTestProducer({
    SYMBOLS: symbols.join(','),
    BINANCE_WS_URL: sim.wsUrl,
    BINANCE_REST_URL: sim.restUrl,
    KAFKA_BROKERS: testKafkaBrokers.join(','),
    TOPIC_TRADES: topics.trades,
    TOPIC_DEPTH: topics.depth,
    TOPIC_PARTITIONS: '3',
  });
  t.after(() => producer.close());
  const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry, health: () => producer.health() });
  t.after(() => ops.close());

  await waitUntil('the simulator to send every frame', () => sim.stats().trades + sim.stats().depth >= total, {
    timeoutMs: 60_000,
    describe: () => JSON.stringify(sim.stats()),
  });
  await waitUntil('Kafka to acknowledge everything', () => producer.health().checks.queued === 0);
  const health = await fetch(`http://127.0.0.1:${ops.port}/health`);
  assert.equal(health.status, 200, await health.clone().text());
  assert.deepEqual((await health.json()) as unknown, {
    ok: true,
    checks: { connections: '1/1', kafka: true, queued: 0, symbols: 3 },
  });

  const sent = await assertTopicsAsSent(t, testKafkaBrokers, topics, symbols, recording);
  const { tradeMessages, depthMessages } = sent;
  const sentTrades = tradeMessages.length;
  for (const [symbol, { trades, diffs, depth }] of sent.symbols) {
    assert.ok(trades.length > 100, `${symbol}: only ${trades.length} trades sent`);
    const partitions = new Set(tradeMessages.filter((m) => m.key === symbol).map((m) => m.partition));
    assert.equal(partitions.size, 1, `${symbol}: trades spread over partitions`);
    assert.ok(diffs.length > 30, `${symbol}: only ${diffs.length} diffs after the snapshot`);
    const snapshot = depth.snapshots[0] ?? 0;
    assert.equal(depth.compared, diffs.length + (recording.bookAt.get(symbol)?.has(snapshot) ? 1 : 0));
  }
  for (const m of [...tradeMessages, ...depthMessages]) {
    const at = Number(m.headers[RECEIVE_TIME_HEADER]);
    assert.ok(
      Number.isInteger(at) && at > Date.now() - 120_000 && at <= Date.now(),
      `receive time ${m.headers[RECEIVE_TIME_HEADER]}`,
    );
  }

  assert.equal(await metric('producer_messages_in_total', { stream: 'trade' }), sentTrades);
  assert.equal(await metric('producer_messages_out_total', { topic: topics.trades }), sentTrades);
  assert.equal(await metric('producer_messages_out_total', { topic: topics.depth }), depthMessages.length);
  assert.equal(await metric('producer_resyncs_total'), 0);
  assert.equal(await metric('producer_delivery_failures_total'), 0);
  assert.equal(await metric('producer_malformed_frames_total'), 0);
  const text = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
  assert.match(text, /producer_receive_to_ack_seconds_count\{topic="[^"]+"\} \d+/);
  assert.ok(
    logs.some((l) => l.msg === 'connected' && l.symbols === 3),
    'connection logged with the symbol count',
  );
});

test('dropped connection and skipped diff: the producer resyncs with new snapshots and the rebuilt book matches again', async (t) => {
  const total = 5000;
  const sim = await startSimulator({
    source: { kind: 'synthetic', symbols: ['BTCUSDT', 'ETHUSDT'], rate: 250, seed: 5, maxMessages: total },
  });
  t.after(() => sim.close());
  const recording = recordSimulator(sim);
  const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
  t.after(() => deleteTopics(testKafkaBrokers, [topics.trades, topics.depth]));
  const { producer, metric, logs } = await startTestProducer({
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    BINANCE_WS_URL: sim.wsUrl,
    BINANCE_REST_URL: sim.restUrl,
    KAFKA_BROKERS: testKafkaBrokers.join(','),
    TOPIC_TRADES: topics.trades,
    TOPIC_DEPTH: topics.depth,
  });
  t.after(() => producer.close());
  const delivered = (): number => sim.stats().trades + sim.stats().depth;
  const published = (): Promise<number> => metric('producer_snapshots_total', { result: 'published' });

  await waitUntil('both books synced', async () => (await published()) === 2, { timeoutMs: 30_000 });
  await waitUntil('1000 frames sent', () => delivered() >= 1000, { timeoutMs: 30_000 });
  sim.skipNextDiff('BTCUSDT');
  await waitUntil(
    'a gap resync with a new snapshot',
    async () => (await metric('producer_resyncs_total', { reason: 'gap' })) === 1 && (await published()) === 3,
    {
      timeoutMs: 30_000,
    },
  );
  await waitUntil('2000 frames sent', () => delivered() >= 2000, { timeoutMs: 30_000 });
  const droppedAt = Date.now();
  sim.dropConnections();
  await waitUntil(
    'reconnected and both books synced again',
    async () => (await metric('producer_reconnects_total')) === 1 && (await published()) === 5,
    {
      timeoutMs: 30_000,
    },
  );
  const reconnectedAt = logs.find((l) => l.msg === 'reconnected')?.time as number;
  assert.ok(reconnectedAt >= droppedAt);
  await waitUntil('the simulator to send every frame', () => delivered() >= total, { timeoutMs: 60_000 });
  await waitUntil('the repair done and Kafka to acknowledge everything', async () => {
    const { queued } = producer.health().checks;
    return queued === 0 && (await metric('producer_repair_pending_symbols')) === 0;
  });

  const trades = await TopicReader.start(testKafkaBrokers, topics.trades);
  const depth = await TopicReader.start(testKafkaBrokers, topics.depth);
  t.after(() => Promise.all([trades.stop(), depth.stop()]));
  const tradeMessages = await trades.readAll();
  const depthMessages = await depth.readAll();

  for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
    const check = checkDepthTopic(depthMessages, symbol, recording);
    assert.equal(
      check.snapshots.length,
      symbol === 'BTCUSDT' ? 3 : 2,
      `${symbol} snapshots ${check.snapshots.join(',')}`,
    );
    const sentDiffs = (recording.sent.get(depthStream(symbol)) ?? []).map((s) => s.json);
    assert.equal(check.diffs.at(-1), sentDiffs.at(-1), `${symbol}: the last diff sent is the last on the topic`);
    assert.equal(new Set(check.diffs).size, check.diffs.length, `${symbol}: a diff appears twice`);
    assert.ok(check.compared > 100, `${symbol}: compared ${check.compared} books`);

    // Trades missed across the cut were fetched over REST: none is missing, none twice.
    const trades = await assertEveryTradeOnce(tradeMessages, symbol, { restUrl: sim.restUrl, recording });
    const sent = (recording.sent.get(tradeStream(symbol)) ?? []).map((s) => (JSON.parse(s.json) as { t: number }).t);
    assert.equal(trades.first, sent[0]);
    assert.equal(trades.last, sent.at(-1));
  }
  assert.equal(await metric('producer_resyncs_total', { reason: 'reconnect' }), 2);
  assert.equal(await metric('producer_sequence_gaps_total', { stream: 'depth' }), 1);
  assert.ok(
    logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('connection lost: ')),
    'the cut is logged',
  );
});

test('connection renewal before the exchange cuts it, pings answered: no gap, no duplicate, no resync', async (t) => {
  const total = 3000;
  const sim = await startSimulator({
    source: { kind: 'synthetic', symbols: ['BTCUSDT', 'ETHUSDT'], rate: 300, seed: 9, maxMessages: total },
    maxConnectionMs: 3000,
    // The simulator cuts a client that did not answer the previous ping.
    pingIntervalMs: 300,
  });
  t.after(() => sim.close());
  const recording = recordSimulator(sim);
  const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
  t.after(() => deleteTopics(testKafkaBrokers, [topics.trades, topics.depth]));
  const { producer, metric, logs } = await startTestProducer({
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    BINANCE_WS_URL: sim.wsUrl,
    BINANCE_REST_URL: sim.restUrl,
    KAFKA_BROKERS: testKafkaBrokers.join(','),
    TOPIC_TRADES: topics.trades,
    TOPIC_DEPTH: topics.depth,
    CONNECTION_RENEW_MS: '1500',
  });
  t.after(() => producer.close());
  await waitUntil('the simulator to send every frame', () => sim.stats().trades + sim.stats().depth >= total, {
    timeoutMs: 60_000,
  });
  await waitUntil('Kafka to acknowledge everything', () => producer.health().checks.queued === 0);

  const renewals = await metric('producer_connection_renewals_total');
  assert.ok(
    renewals >= 3,
    `${renewals} renewals; log: ${JSON.stringify(logs.filter((l) => l.level >= 30).map((l) => [l.time, l.msg]))}`,
  );
  assert.equal(await metric('producer_reconnects_total'), 0);
  assert.equal(await metric('producer_resyncs_total'), 0);
  const duplicates = logs.filter((l) => l.msg === 'connection renewed').map((l) => l.duplicatesDropped as number);
  assert.ok((duplicates.at(-1) ?? 0) > 0, 'the overlap delivered duplicates, and they were dropped');
  await assertTopicsAsSent(t, testKafkaBrokers, topics, ['BTCUSDT', 'ETHUSDT'], recording);
});
