/**
 * Issue 12, "No trade lost": every trade id reaches the trades topic exactly once, through
 * withheld trades, dropped connections, serverShutdown and an overload (the kill -9 is in
 * test/producer-kill.integration.test.ts, with the aggregator and ClickHouse).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '@candleflow/binance-sim/simulator';
import { depthStream } from '@candleflow/common/binance-events';
import { testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import {
  TopicReader,
  assertEveryTradeOnce,
  checkDepthTopic,
  deleteTopics,
  readTopicWithKafkaJs,
  recordSimulator,
  sentRange,
  startTestProducer,
} from './support/harness.js';

const symbols = ['BTCUSDT', 'ETHUSDT'];

test(
  'withheld trades, a dropped connection and a serverShutdown: every trade id once; serverShutdown resyncs no book',
  { timeout: 180_000 },
  async (t) => {
    const total = 9000;
    const sim = await startSimulator({
      source: { kind: 'synthetic', symbols, rate: 400, seed: 21, maxMessages: total },
    });
    t.after(() => sim.close());
    const recording = recordSimulator(sim);
    const withheld: number[] = [];
    sim.on('withheld', (symbol, trade) => {
      if (symbol === 'BTCUSDT') withheld.push(trade.id);
    });
    const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
    t.after(() => deleteTopics(testKafkaBrokers, [topics.trades, topics.depth]));
    const { producer, metric, logs } = await startTestProducer({
      SYMBOLS: symbols.join(','),
      BINANCE_WS_URL: sim.wsUrl,
      BINANCE_REST_URL: sim.restUrl,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      TOPIC_TRADES: topics.trades,
      TOPIC_DEPTH: topics.depth,
    });
    t.after(() => producer.close());
    const delivered = (): number => sim.stats().trades + sim.stats().depth;
    const resyncs = (): Promise<number> => metric('producer_resyncs_total');

    await waitUntil('both books synced, 1000 frames sent', async () => {
      return (await metric('producer_snapshots_total', { result: 'published' })) === 2 && delivered() >= 1000;
    });
    sim.withholdTrades('BTCUSDT', 50);
    await waitUntil(
      'the 50 withheld trades repaired',
      async () => (await metric('producer_trades_repaired_total')) >= 50,
      {
        describe: () => `${withheld.length} withheld`,
      },
    );

    await waitUntil('3000 frames sent', () => delivered() >= 3000);
    const resyncsBefore = await resyncs();
    sim.serverShutdown(3000);
    await waitUntil('the connection renewed', async () => (await metric('producer_connection_renewals_total')) === 1);
    assert.equal(await metric('producer_server_shutdowns_total'), 1);
    assert.equal(await resyncs(), resyncsBefore, 'a serverShutdown resyncs no book');
    assert.equal(await metric('producer_reconnects_total'), 0);

    await waitUntil('5000 frames sent', () => delivered() >= 5000);
    sim.dropConnections();
    await waitUntil('reconnected', async () => (await metric('producer_reconnects_total')) === 1);

    await waitUntil('the simulator to send every frame', () => delivered() >= total, { timeoutMs: 60_000 });
    await waitUntil('the repair done and Kafka to acknowledge everything', async () => {
      const { queued } = producer.health().checks;
      return queued === 0 && (await metric('producer_repair_pending_symbols')) === 0;
    });
    assert.equal(await resyncs(), resyncsBefore + 2, 'only the dropped connection resynced, both its books');

    const tradeMessages = await readTopicWithKafkaJs(testKafkaBrokers, topics.trades);
    const depth = await TopicReader.start(testKafkaBrokers, topics.depth);
    t.after(() => depth.stop());
    const depthMessages = await depth.readAll();
    let repaired = 0;
    for (const symbol of symbols) {
      const trades = await assertEveryTradeOnce(tradeMessages, symbol, { restUrl: sim.restUrl, recording });
      assert.deepEqual({ first: trades.first, last: trades.last }, sentRange(recording, symbol));
      repaired += trades.repaired.length;
      if (symbol === 'BTCUSDT') {
        assert.equal(withheld.length, 50);
        const rest = new Set(trades.repaired);
        assert.deepEqual(
          withheld.filter((id) => !rest.has(id)),
          [],
          'every withheld trade came over REST',
        );
      }
      const check = checkDepthTopic(depthMessages, symbol, recording);
      assert.equal(check.snapshots.length, 2, `${symbol}: snapshots ${check.snapshots.join(',')}`);
      const sentDiffs = (recording.sent.get(depthStream(symbol)) ?? []).map((s) => s.json);
      assert.equal(check.diffs.at(-1), sentDiffs.at(-1));
    }
    assert.equal(await metric('producer_trades_repaired_total'), repaired);
    assert.equal(await metric('producer_trades_unrepairable_total'), 0);
    assert.equal(await metric('producer_trades_skipped_total'), 0);
    assert.ok(logs.some((l) => l.msg === 'the exchange announced a server shutdown; renewing the connection now'));
    console.log(`# repaired ${repaired} trades (${withheld.length} withheld, the rest across the dropped connection)`);
  },
);

test(
  'overload: the producer stops reading while Kafka catches up, and no trade id is missing',
  { timeout: 240_000 },
  async (t) => {
    const total = 150_000;
    const sim = await startSimulator({
      source: { kind: 'synthetic', symbols, rate: 60_000, seed: 41, maxMessages: total },
    });
    t.after(() => sim.close());
    const recording = recordSimulator(sim);
    const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
    t.after(() => deleteTopics(testKafkaBrokers, [topics.trades, topics.depth]));
    const { producer, metric, logs } = await startTestProducer({
      SYMBOLS: symbols.join(','),
      BINANCE_WS_URL: sim.wsUrl,
      BINANCE_REST_URL: sim.restUrl,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      TOPIC_TRADES: topics.trades,
      TOPIC_DEPTH: topics.depth,
      // Filled in about 80 ms at the simulator's rate; 60 % of it is the high-water mark.
      MAX_QUEUE_MESSAGES: '5000',
    });
    const describe = (): string =>
      JSON.stringify(producer.health()) +
      logs
        .filter((l) => l.level >= 40 && !String(l.msg).startsWith('Kafka'))
        .slice(-15)
        .map((l) => `\n${l.msg}`)
        .join('');
    t.after(() => producer.close());
    const started = Date.now();
    await waitUntil('the simulator to send every frame', () => sim.stats().trades + sim.stats().depth >= total, {
      timeoutMs: 180_000,
    });
    const seconds = (Date.now() - started) / 1000;
    await waitUntil(
      'the repair done and Kafka to acknowledge everything',
      async () => {
        const { queued } = producer.health().checks;
        return queued === 0 && (await metric('producer_repair_pending_symbols')) === 0;
      },
      // Depth resyncs come first and may spend a minute's request weight.
      { timeoutMs: 120_000, describe },
    );
    const tradeMessages = await readTopicWithKafkaJs(testKafkaBrokers, topics.trades);
    let repaired = 0;
    for (const symbol of symbols) {
      const trades = await assertEveryTradeOnce(tradeMessages, symbol, { restUrl: sim.restUrl, recording });
      assert.deepEqual({ first: trades.first, last: trades.last }, sentRange(recording, symbol));
      repaired += trades.repaired.length;
    }
    const pauses = await metric('producer_reading_pauses_total');
    assert.ok(pauses > 0, 'reading paused at the high-water mark');
    const dropped = await metric('producer_dropped_messages_total', { topic: topics.trades });
    assert.equal(dropped, 0, 'reading paused before the queue dropped a trade');
    console.log(
      `# ${total} frames in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s); ${pauses} pauses; ` +
        `trades dropped at the queue ${dropped}, repaired ${repaired}; depth resyncs ${await metric('producer_resyncs_total')}`,
    );
  },
);
