/**
 * The producer killed (-9) for 20 s while the market trades, then started again: the
 * restart reads where each symbol's trades stop on the topic and repairs the rest over
 * REST. Every trade id the simulator traded is then in `trades FINAL` exactly once, and
 * the final windows equal those computed here from the simulator's own trades.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startAggregator } from '@candleflow/aggregator/aggregator';
import { parseAggregatorConfig } from '@candleflow/aggregator/config';
import { startSimulator } from '@candleflow/binance-sim/simulator';
import { depthStream, tradeEventSchema, tradeStream } from '@candleflow/common/binance-events';
import { freePort } from '@candleflow/common/free-port';
import { testClickhouseUrl, testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { createClient } from '@clickhouse/client';
import { metricValue, readWindows } from '../aggregator/test/support/harness.js';
import { assertWindowsMatch, referenceWindows } from '../aggregator/test/support/reference-windows.js';
import {
  assertEveryTradeOnce,
  deleteTopics,
  readTopicWithKafkaJs,
  recordSimulator,
  runProducer,
  sentRange,
} from '../producer/test/support/harness.js';

const symbols = ['BTCUSDT', 'ETHUSDT'];

test(
  'the producer killed -9 for 20 s and started again: every trade id in ClickHouse once, windows exact',
  { timeout: 240_000 },
  async (t) => {
    const total = 30_000;
    // About 780 trades a second over both symbols.
    const sim = await startSimulator({
      source: { kind: 'synthetic', symbols, rate: 800, seed: 31, maxMessages: total },
    });
    t.after(() => sim.close());
    const recording = recordSimulator(sim);
    // A second client keeps the market trading (and every trade recorded) while the producer is dead.
    const observer = new WebSocket(
      `${sim.wsUrl}/stream?streams=${symbols.flatMap((s) => [tradeStream(s), depthStream(s)]).join('/')}`,
    );
    t.after(() => observer.terminate());
    await new Promise((resolve, reject) => observer.once('open', resolve).once('error', reject));

    const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
    t.after(() => deleteTopics(testKafkaBrokers, [topics.trades, topics.depth]));
    const database = uniqueName('producer_kill');
    const clickhouse = createClient({ url: testClickhouseUrl });
    t.after(async () => {
      await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await clickhouse.close();
    });
    const aggregator = await startAggregator(
      parseAggregatorConfig({
        KAFKA_BROKERS: testKafkaBrokers.join(','),
        TOPIC_TRADES: topics.trades,
        TOPIC_DEPTH: topics.depth,
        TOPIC_DLQ: `${topics.trades}.dlq`,
        CLICKHOUSE_URL: testClickhouseUrl,
        CLICKHOUSE_DB: database,
        GROUP_ID: database,
        AGGREGATOR_PORT: '0',
        AGGREGATOR_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      }),
    );
    t.after(() => aggregator.stop());
    const env = async () => ({
      SYMBOLS: symbols.join(','),
      BINANCE_WS_URL: sim.wsUrl,
      BINANCE_REST_URL: sim.restUrl,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      TOPIC_TRADES: topics.trades,
      TOPIC_DEPTH: topics.depth,
      PRODUCER_PORT: String(await freePort()),
      RECONNECT_MIN_DELAY_MS: '100',
      RECONNECT_MAX_DELAY_MS: '1000',
    });
    /** A producer metric, or -1 while its /metrics does not answer (starting, killed). */
    const metric = (port: string, name: string, labels: Record<string, string> = {}): Promise<number> =>
      metricValue(Number(port), name, labels).catch(() => -1);

    const firstEnv = await env();
    const first = runProducer(firstEnv);
    t.after(() => first.child.kill('SIGKILL'));
    await waitUntil(
      '3000 trades acknowledged by Kafka',
      async () =>
        (await metric(firstEnv.PRODUCER_PORT, 'producer_messages_out_total', { topic: topics.trades })) >= 3000,
      { timeoutMs: 60_000, describe: () => first.out.stdout.slice(-2000) + first.out.stderr },
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    await waitUntil('20 s without the producer', () => Date.now() - killedAt >= 20_000, { timeoutMs: 30_000 });

    const secondEnv = await env();
    const second = runProducer(secondEnv);
    t.after(() => second.child.kill('SIGKILL'));
    await waitUntil('the simulator to send every frame', () => sim.stats().trades + sim.stats().depth >= total, {
      timeoutMs: 120_000,
    });
    await waitUntil(
      'the repair done and Kafka to acknowledge everything',
      async () => {
        const port = secondEnv.PRODUCER_PORT;
        return (
          (await metric(port, 'producer_repair_pending_symbols')) === 0 &&
          (await metric(port, 'producer_queue_depth')) === 0 &&
          (await metric(port, 'producer_trades_repaired_total')) > 0
        );
      },
      { timeoutMs: 120_000, describe: () => second.out.stdout.slice(-3000) + second.out.stderr },
    );
    assert.equal(await metric(secondEnv.PRODUCER_PORT, 'producer_trades_skipped_total'), 0);
    assert.equal(await metric(secondEnv.PRODUCER_PORT, 'producer_trades_unrepairable_total'), 0);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.out.stderr);

    const tradeMessages = await readTopicWithKafkaJs(testKafkaBrokers, topics.trades);
    let repaired = 0;
    for (const symbol of symbols) {
      const trades = await assertEveryTradeOnce(tradeMessages, symbol, { restUrl: sim.restUrl, recording });
      assert.deepEqual({ first: trades.first, last: trades.last }, sentRange(recording, symbol));
      repaired += trades.repaired.length;
    }
    const lines = second.out.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { msg: string; found?: number });
    assert.ok(lines.some((l) => l.msg === `read the end of ${topics.trades}: 2 of 2 symbols found`));

    // ClickHouse: every traded id once, and the windows of the simulator's own trades.
    const traded = symbols.flatMap((symbol) =>
      (recording.sent.get(tradeStream(symbol)) ?? []).map((s) => tradeEventSchema.parse(JSON.parse(s.json))),
    );
    const expected = referenceWindows(
      traded.map((e) => ({ symbol: e.s, id: e.t, price: e.p, qty: e.q, timeMs: e.T, buyerIsMaker: e.m })),
      10,
    );
    const stored = await waitUntil(
      `the ${expected.length} windows final in ClickHouse`,
      async () => {
        const rows = await readWindows({ clickhouse, db: database }).catch(() => []);
        const done =
          rows.length === expected.length && rows.every((r, i) => r.isFinal && r.trades === expected[i]?.trades);
        return done ? rows : undefined;
      },
      { timeoutMs: 90_000 },
    );
    assertWindowsMatch(stored, expected);
    for (const symbol of symbols) {
      const [ids] = await (
        await clickhouse.query({
          query: `SELECT count() AS n, uniqExact(trade_id) AS distinct, min(trade_id) AS first, max(trade_id) AS last
                  FROM ${database}.trades FINAL WHERE symbol = '${symbol}'`,
          format: 'JSONEachRow',
        })
      ).json<{ n: string; distinct: string; first: string; last: string }>();
      const { first, last } = sentRange(recording, symbol);
      assert.deepEqual(
        [Number(ids?.n), Number(ids?.distinct), Number(ids?.first), Number(ids?.last)],
        [last - first + 1, last - first + 1, first, last],
        `${symbol}: every id from ${first} to ${last} once`,
      );
    }
    console.log(
      `# ${tradeMessages.length} trades on the topic, each id once; ${repaired} of them repaired over REST (backfill, the 20 s outage)`,
    );
  },
);
