import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startSimulator } from '@candleflow/binance-sim/simulator';
import { depthStream, tradeStream } from '@candleflow/common/binance-events';
import { findProjectRoot } from '@candleflow/common/env';
import { uniqueName, waitUntil } from '@candleflow/common/testing';
import { localKafka } from '../../scripts/local-services/kafka.js';
import { TopicReader, checkDepthTopic, freePort, recordSimulator, startTestProducer } from './support/harness.js';

test(
  'Kafka stopped for 10 s and started again: every message arrives once, none lost',
  { timeout: 300_000 },
  async (t) => {
    // A private broker on free ports: the shared one on :9092 is never stopped.
    const brokers = [`127.0.0.1:${await freePort()}`];
    const stateDir = mkdtempSync(path.join(tmpdir(), 'candleflow-kafka-'));
    t.after(() => rmSync(stateDir, { recursive: true, force: true }));
    const kafka = localKafka(findProjectRoot(), brokers, { stateDir, controllerPort: await freePort() });
    await kafka.start();
    t.after(() => kafka.stop());

    const symbols = ['BTCUSDT', 'ETHUSDT'];
    const total = 6000;
    const sim = await startSimulator({
      source: { kind: 'synthetic', symbols, rate: 150, seed: 3, maxMessages: total },
    });
    t.after(() => sim.close());
    const recording = recordSimulator(sim);
    const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
    const { producer, metric, logs } = await startTestProducer({
      SYMBOLS: symbols.join(','),
      BINANCE_WS_URL: sim.wsUrl,
      BINANCE_REST_URL: sim.restUrl,
      KAFKA_BROKERS: brokers.join(','),
      TOPIC_TRADES: topics.trades,
      TOPIC_DEPTH: topics.depth,
      TOPIC_PARTITIONS: '2',
    });
    t.after(() => producer.close());
    const delivered = (): number => sim.stats().trades + sim.stats().depth;

    await waitUntil('500 frames sent and acknowledged', async () => {
      return delivered() >= 500 && (await metric('producer_messages_out_total')) >= 400;
    });
    const stoppedAt = Date.now();
    await kafka.stop();
    await waitUntil(
      '10 s of outage with messages waiting in the producer',
      () => Date.now() - stoppedAt >= 10_000 && producer.health().checks.kafka === false,
      { timeoutMs: 60_000, describe: () => JSON.stringify(producer.health()) },
    );
    const waiting = producer.health().checks.queued as number;
    assert.ok(waiting > 500, `${waiting} messages waiting`);
    assert.equal(producer.health().ok, false);
    assert.equal(producer.health().checks.connections, '1/1', 'the WebSocket stream stays up');
    await kafka.start();

    await waitUntil('the simulator to send every frame', () => delivered() >= total, { timeoutMs: 120_000 });
    await waitUntil('Kafka to acknowledge everything', () => producer.health().checks.queued === 0, {
      timeoutMs: 120_000,
      describe: () => JSON.stringify(producer.health()),
    });
    assert.equal(producer.health().ok, true);

    const trades = await TopicReader.start(brokers, topics.trades);
    const depth = await TopicReader.start(brokers, topics.depth);
    t.after(() => Promise.all([trades.stop(), depth.stop()]));
    const tradeMessages = await trades.readAll();
    const depthMessages = await depth.readAll();
    let sentTrades = 0;
    for (const symbol of symbols) {
      const sent = (recording.sent.get(tradeStream(symbol)) ?? []).map((s) => s.json);
      sentTrades += sent.length;
      assert.deepEqual(
        tradeMessages.filter((m) => m.key === symbol).map((m) => m.value),
        sent,
        `${symbol}: trades on the topic differ from the trades sent`,
      );
      const check = checkDepthTopic(depthMessages, symbol, recording);
      assert.equal(check.snapshots.length, 1, `${symbol} snapshots ${check.snapshots.join(',')}`);
      const expectedDiffs = (recording.sent.get(depthStream(symbol)) ?? [])
        .map((s) => s.json)
        .filter((json) => (JSON.parse(json) as { u: number }).u > (check.snapshots[0] ?? 0));
      assert.deepEqual(check.diffs, expectedDiffs, `${symbol}: diffs on the topic differ from the diffs sent`);
    }
    assert.equal(tradeMessages.length, sentTrades, 'count in = count on the topic');
    assert.equal(await metric('producer_messages_in_total', { stream: 'trade' }), sentTrades);
    assert.equal(await metric('producer_delivery_failures_total'), 0);
    assert.equal(await metric('producer_dropped_messages_total'), 0);
    assert.ok(logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('Kafka unreachable')));
    assert.ok(logs.some((l) => l.msg === 'Kafka reachable again'));
  },
);
