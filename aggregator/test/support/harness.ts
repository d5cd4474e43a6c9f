/**
 * What the aggregator's integration tests share: private topics, database and group per
 * test, Binance-format messages produced with KafkaJS, and reads of what ClickHouse holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { RECEIVE_TIME_HEADER } from '@candleflow/common/binance-events';
import { findProjectRoot } from '@candleflow/common/env';
import { testClickhouseUrl, testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { parseAggregatorConfig, type AggregatorConfig } from '../../src/config.js';
import { randomDecimal, seededRandom, type RefTrade, type RefWindow } from './reference-windows.js';

export const kafka = new Kafka({ clientId: 'aggregator-test', brokers: testKafkaBrokers, logLevel: logLevel.NOTHING });

export interface TestEnv {
  env: Record<string, string>;
  config: AggregatorConfig;
  topics: { trades: string; depth: string; dlq: string };
  db: string;
  clickhouse: ClickHouseClient;
  admin: Admin;
  producer: Producer;
  /** Drops the database, closes clients. */
  close(): Promise<void>;
}

/** Private topics (`partitions` each), database and group; an environment for the aggregator. */
export async function createTestEnv(
  prefix: string,
  overrides: Record<string, string> = {},
  partitions = 3,
): Promise<TestEnv> {
  const topics = {
    trades: uniqueName(`${prefix}_trades`),
    depth: uniqueName(`${prefix}_depth`),
    dlq: uniqueName(`${prefix}_dlq`),
  };
  const db = uniqueName(`agg_${prefix}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.trades, numPartitions: partitions },
      { topic: topics.depth, numPartitions: partitions },
      { topic: topics.dlq, numPartitions: 1 },
    ],
  });
  const producer = kafka.producer();
  await producer.connect();
  const env: Record<string, string> = {
    KAFKA_BROKERS: testKafkaBrokers.join(','),
    CLICKHOUSE_URL: testClickhouseUrl,
    CLICKHOUSE_DB: db,
    TOPIC_TRADES: topics.trades,
    TOPIC_DEPTH: topics.depth,
    TOPIC_DLQ: topics.dlq,
    GROUP_ID: uniqueName(`${prefix}_group`),
    WINDOW_SECONDS: '10',
    WINDOW_GRACE_MS: '2000',
    WINDOW_IDLE_MS: '1500',
    SINK_FLUSH_MS: '200',
    SINK_RETRY_MIN_MS: '100',
    SINK_RETRY_MAX_MS: '1000',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    AGGREGATOR_PORT: '0',
    AGGREGATOR_HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    ...overrides,
  };
  const clickhouse = createClient({ url: testClickhouseUrl });
  return {
    env,
    config: parseAggregatorConfig(env),
    topics,
    db,
    clickhouse,
    admin,
    producer,
    close: async () => {
      await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      await clickhouse.close();
      await producer.disconnect();
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.deleteGroups([env.GROUP_ID ?? '']).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** A reference trade as the Binance trade event the producer forwards. */
export function tradeEvent(t: RefTrade): Record<string, unknown> {
  return {
    e: 'trade',
    E: t.timeMs + 3,
    s: t.symbol,
    t: t.id,
    p: t.price,
    q: t.qty,
    T: t.timeMs,
    m: t.buyerIsMaker,
    M: true,
  };
}

export function tradeEventJson(t: RefTrade): string {
  return JSON.stringify(tradeEvent(t));
}

export interface RawMessage {
  key: string;
  value: string;
}

export const tradeMessage = (t: RefTrade): RawMessage => ({ key: t.symbol, value: tradeEventJson(t) });

/** Produces in order, with the producer's receive-time header. */
export async function produce(producer: Producer, topic: string, messages: readonly RawMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 500) {
    await producer.send({
      topic,
      messages: messages.slice(i, i + 500).map((m) => ({
        key: m.key,
        value: m.value,
        headers: { [RECEIVE_TIME_HEADER]: String(Date.now()) },
      })),
    });
  }
}

export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

/**
 * Trades over several symbols starting at `startMs`, 40 ms apart on average, sometimes out
 * of order by up to 1.5 s (inside the default grace), with Binance-like decimals.
 */
export function syntheticTrades(options: {
  seed: number;
  count: number;
  symbols: readonly string[];
  startMs?: number;
  firstId?: number;
}): RefTrade[] {
  const random = seededRandom(options.seed);
  const ids = new Map(options.symbols.map((s) => [s, options.firstId ?? 1_000_000]));
  const trades: RefTrade[] = [];
  for (let i = 0; i < options.count; i++) {
    const symbol = options.symbols[Math.floor(random() * options.symbols.length)] ?? 'BTCUSDT';
    const id = (ids.get(symbol) ?? 0) + 1;
    ids.set(symbol, id);
    const base = symbol.startsWith('BTC') ? 65_000 : symbol.startsWith('ETH') ? 3_000 : 20;
    trades.push({
      symbol,
      id,
      price: randomDecimal(random, base * 0.99, base * 1.01),
      qty: randomDecimal(random, 0.00001, 2),
      timeMs: (options.startMs ?? T0) + i * 40 - (random() < 0.1 ? Math.floor(random() * 1500) : 0),
      buyerIsMaker: random() < 0.5,
    });
  }
  return trades;
}

interface StoredWindow {
  symbol: string;
  windowStart: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  vwap: number;
  trades: number;
  buyVolume: number;
  sellVolume: number;
  firstTradeId: string;
  lastTradeId: string;
  missingTrades: string;
  isFinal: number;
}

export type StoredWindowRow = RefWindow & { isFinal: boolean };

/** `trade_windows FINAL`, sorted like the reference. */
export async function readWindows(env: Pick<TestEnv, 'clickhouse' | 'db'>): Promise<StoredWindowRow[]> {
  const rows = await (
    await env.clickhouse.query({
      query: `SELECT symbol, toUInt32(window_start) AS windowStart, open, high, low, close, volume,
                quote_volume AS quoteVolume, vwap, trades, buy_volume AS buyVolume, sell_volume AS sellVolume,
                first_trade_id AS firstTradeId, last_trade_id AS lastTradeId,
                missing_trades AS missingTrades, is_final AS isFinal
              FROM ${env.db}.trade_windows FINAL`,
      format: 'JSONEachRow',
    })
  ).json<StoredWindow>();
  return rows
    .map((r) => ({
      ...r,
      firstTradeId: Number(r.firstTradeId),
      lastTradeId: Number(r.lastTradeId),
      missingTrades: Number(r.missingTrades),
      isFinal: r.isFinal === 1,
    }))
    .sort((a, b) => a.symbol.localeCompare(b.symbol) || a.windowStart - b.windowStart);
}

export async function queryRows<T>(env: TestEnv, query: string): Promise<T[]> {
  return (await env.clickhouse.query({ query, format: 'JSONEachRow' })).json<T>();
}

/** Waits until `trade_windows FINAL` has `count` rows, all final. */
export async function waitForFinalWindows(env: TestEnv, count: number, timeoutMs = 60_000): Promise<StoredWindowRow[]> {
  let last: StoredWindowRow[] = [];
  return waitUntil(
    `${count} final windows in ${env.db}`,
    async () => {
      last = await readWindows(env).catch(() => []);
      return last.length === count && last.every((w) => w.isFinal) ? last : undefined;
    },
    {
      timeoutMs,
      intervalMs: 250,
      describe: () => `${last.length} rows, ${last.filter((w) => w.isFinal).length} final`,
    },
  );
}

/** Number of rows in `table FINAL`. */
export async function countFinal(env: TestEnv, table: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(env, `SELECT count() AS n FROM ${env.db}.${table} FINAL`);
  return Number(row?.n ?? 0);
}

/** Reads a Prometheus counter or gauge (summed over label sets matching `labels`) from /metrics. */
export async function metricValue(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

/** Runs `npm run aggregator`'s entry point as a child process with `env`. */
export function spawnAggregator(env: Record<string, string>): ChildProcess & { output: () => string } {
  const root = findProjectRoot();
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', path.join('aggregator', 'src', 'main.ts')],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return Object.assign(child, { output: () => output });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
