import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { commitStart } from '../src/kafka-offsets.js';
import {
  dropKafkaPeerStatements,
  kafkaPeerConsumedQuery,
  kafkaPeerStatements,
  kafkaPeerTables,
  type KafkaPeerVariant,
} from '../src/peer-tables.js';
import { readWindows } from '../src/window-readers.js';

const TRADES = 500;
// Two symbols, one window each of 10 s starting at 1,700,000,000 s; prices with all 8 decimals.
const trade = (i: number) => ({
  e: 'trade',
  E: 1_700_000_000_500 + i,
  s: i % 2 === 0 ? 'BTCUSDT' : 'ETHUSDT',
  t: 1000 + i,
  p: `${100 + (i % 7)}.${String(12345678 + i).padStart(8, '0')}`,
  q: `0.${String(i + 1).padStart(8, '0')}`,
  T: 1_700_000_000_000 + i,
  m: i % 3 === 0,
  M: true,
});

/**
 * Each Kafka-engine variant created on a topic that already holds every trade (as in
 * catch-up, where its consumer may start the moment its first view exists): the fair one
 * writes every raw trade into its copy of the project's trades table, exactly as the
 * project stores it, and both give the same windows.
 */
test(
  'the Kafka-engine peers read a full topic: every raw trade (fair) and the same windows',
  { timeout: 90_000 },
  async () => {
    const topic = uniqueName('bench_peer_trades');
    const database = uniqueName('bench_peer');
    const kafka = new Kafka({ clientId: 'bench-peer-test', brokers: testKafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer();
    const db = createClient({ url: testClickhouseUrl, request_timeout: 60_000 });
    const groups: string[] = [];
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });
      const trades = Array.from({ length: TRADES }, (_, i) => trade(i));
      await producer.send({ topic, messages: trades.map((t) => ({ key: t.s, value: JSON.stringify(t) })) });
      await migrate({ url: testClickhouseUrl, database });
      const windowsOf: Partial<Record<KafkaPeerVariant, unknown>> = {};
      for (const variant of ['fair', 'windows-only'] as const) {
        const groupId = uniqueName(`bench_peer_${variant}`);
        groups.push(groupId);
        await commitStart(admin, groupId, topic);
        for (const query of kafkaPeerStatements({
          variant,
          database,
          brokers: testKafkaBrokers,
          topic,
          groupId,
          windowSeconds: 10,
        })) {
          await db.command({ query });
        }
        const consumed = async (): Promise<number> => {
          const [row] = await (
            await db.query({ query: kafkaPeerConsumedQuery(database, variant), format: 'JSONEachRow' })
          ).json<{ n: string | number }>();
          return Number(row?.n ?? 0);
        };
        await waitUntil(`the ${variant} peer to read ${TRADES} trades`, async () => (await consumed()) >= TRADES, {
          timeoutMs: 40_000,
          intervalMs: 250,
        });
        for (const query of dropKafkaPeerStatements(database, variant)) await db.command({ query });
        const tradesTable = kafkaPeerTables(variant).trades;
        if (tradesTable) {
          const columns = 'symbol, trade_id, price, qty, trade_time_ms, event_time_ms, is_buyer_maker, from_rest';
          const rows = await (
            await db.query({
              query: `SELECT ${columns} FROM ${database}.${tradesTable} ORDER BY trade_id`,
              format: 'JSONEachRow',
            })
          ).json<Record<string, unknown>>();
          // As the project stores them: prices as exact decimals rounded once to Float64, times as given.
          assert.deepEqual(
            rows,
            trades.map((t) => ({
              symbol: t.s,
              trade_id: String(t.t),
              price: Number(t.p),
              qty: Number(t.q),
              trade_time_ms: String(t.T),
              event_time_ms: String(t.E),
              is_buyer_maker: t.m ? 1 : 0,
              from_rest: 0,
            })),
          );
        }
        const client = createClient({ url: testClickhouseUrl, database });
        try {
          windowsOf[variant] = await readWindows(
            client,
            variant === 'fair' ? 'kafkaEngine' : 'kafkaEngineWindowsOnly',
            10,
          );
        } finally {
          await client.close();
        }
      }
      assert.deepEqual(
        (windowsOf.fair as { symbol: string; trades: number }[]).map((w) => [w.symbol, w.trades]).sort(),
        [
          ['BTCUSDT', 250],
          ['ETHUSDT', 250],
        ],
      );
      assert.deepEqual(windowsOf['windows-only'], windowsOf.fair);
    } finally {
      await db.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.deleteGroups(groups).catch(() => undefined);
      await producer.disconnect();
      await admin.disconnect();
      await db.close();
    }
  },
);
