import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { findProjectRoot } from '@candleflow/common/env';
import { testClickhouseUrl, testKafkaBrokers, uniqueName } from '@candleflow/common/testing';
import { ProcessMeter } from '../src/process-meter.js';
import { sparkCatchUp, sparkSkipReason } from '../src/spark-peer.js';
import { readWindows } from '../src/window-readers.js';

const root = findProjectRoot();
// Installed on demand only (bash bench/spark/install.sh); CI never installs it.
const skip = sparkSkipReason(root);

const W = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;
const trade = (s: string, t: number, p: string, q: string, T: number, m = false): string =>
  JSON.stringify({ e: 'trade', E: T + 5, s, t, p, q, T, m, M: true });

test(
  'the Spark peer writes exact final windows: ties by trade id, duplicates once, bad messages skipped',
  { timeout: 300_000, skip: skip ? `spark peer not run: ${skip}` : false },
  async () => {
    const topic = uniqueName('spark_peer_trades');
    const database = uniqueName('spark_peer');
    const kafka = new Kafka({ clientId: 'spark-peer-test', brokers: testKafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer();
    const server = createClient({ url: testClickhouseUrl });
    const db = createClient({ url: testClickhouseUrl, database });
    const logDir = mkdtempSync(path.join(tmpdir(), 'spark-peer-'));
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
      await server.command({ query: `CREATE DATABASE ${database}` });
      const values = [
        // BTCUSDT [W, W+10 s): ids 1 and 2 share a trade time (open: id 1); id 3 comes twice.
        trade('BTCUSDT', 1, '100.50000000', '1.00000000', W + 1_000),
        trade('BTCUSDT', 2, '99.25000000', '0.50000000', W + 1_000, true),
        trade('BTCUSDT', 3, '101.00000000', '2.00000000', W + 5_000, true),
        trade('BTCUSDT', 3, '101.00000000', '2.00000000', W + 5_000, true),
        trade('BTCUSDT', 4, '100.00000000', '0.25000000', W + 9_999),
        // Bad input: skipped, nothing else changes.
        'not json',
        trade('BTCUSDT', 9, 'abc', '1', W + 2_000),
        // The next window: final only once the probe moves the watermark.
        trade('BTCUSDT', 5, '102.00000000', '1.00000000', W + 12_000),
        // ETHUSDT: the higher id has the earlier time, so it opens the window.
        trade('ETHUSDT', 10, '5.00000000', '3.00000000', W + 3_000),
        trade('ETHUSDT', 11, '6.00000000', '1.00000000', W + 2_000),
      ];
      await producer.send({
        topic,
        messages: values.map((value) => ({ key: value.includes('ETHUSDT') ? 'ETHUSDT' : 'BTCUSDT', value })),
      });
      const figures = await sparkCatchUp({
        root,
        brokers: testKafkaBrokers,
        clickhouseUrl: testClickhouseUrl,
        windowSeconds: 10,
        graceMs: 2_000,
        tradesTopic: topic,
        trades: values.length,
        emptyTopic: '',
        dlqTopic: '',
        database,
        naiveDatabase: database,
        db: server,
        admin,
        meter: new ProcessMeter(),
        seconds: 60,
        logFile: (name) => path.join(logDir, `${name}.log`),
        serviceEnv: {},
        aggregatorNodeArgs: [],
      });
      assert.equal(figures.status, 'ok', figures.error);
      assert.equal(figures.messages, values.length);
      assert.ok(figures.cpuSeconds > 0 && (figures.maxRssBytes ?? 0) > 0, JSON.stringify(figures));
      const latency = figures.probeLatency;
      assert.ok(latency && latency.finalAfterClose.count > 0, JSON.stringify(latency));
      assert.equal(latency.finalAfterClose.missing, 0);

      const windows = await readWindows(db, 'spark', 10);
      windows.sort((a, b) => a.symbol.localeCompare(b.symbol) || a.windowStartMs - b.windowStartMs);
      assert.deepEqual(windows, [
        {
          symbol: 'BTCUSDT',
          windowStartMs: W,
          open: 100.5,
          high: 101,
          low: 99.25,
          close: 100,
          volume: 3.75,
          quoteVolume: 100.5 + 99.25 * 0.5 + 202 + 25,
          buyVolume: 1.25,
          sellVolume: 2.5,
          trades: 4,
          firstTradeId: 1,
          lastTradeId: 4,
        },
        {
          symbol: 'BTCUSDT',
          windowStartMs: W + 10_000,
          open: 102,
          high: 102,
          low: 102,
          close: 102,
          volume: 1,
          quoteVolume: 102,
          buyVolume: 1,
          sellVolume: 0,
          trades: 1,
          firstTradeId: 5,
          lastTradeId: 5,
        },
        {
          symbol: 'ETHUSDT',
          windowStartMs: W,
          open: 6,
          high: 6,
          low: 5,
          close: 5,
          volume: 4,
          quoteVolume: 21,
          buyVolume: 4,
          sellVolume: 0,
          trades: 2,
          firstTradeId: 10,
          lastTradeId: 11,
        },
      ]);
    } finally {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
      await server.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await db.close();
      await server.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  },
);
