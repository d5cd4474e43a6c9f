import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin } from 'kafkajs';
import { fetchText } from './http-text.js';
import { commitStart } from './kafka-offsets.js';
import { naiveProgressSchema, type NaiveProgress } from './naive-messages.js';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import {
  NAIVE_TRADES_TABLE,
  dropKafkaPeerStatements,
  kafkaPeerConsumedQuery,
  kafkaPeerStatements,
  naiveTableStatement,
  type KafkaPeerVariant,
} from './peer-tables.js';
import type { ProcessMeter } from './process-meter.js';
import { sumSamples } from './prometheus-text.js';
import type { CatchUpFigures } from './results.js';
import { ServiceProcess, describeExit } from './service-process.js';

/**
 * Each implementation alone on the same stored trades topic, from its start, for at most
 * `seconds`: the most it can read per second and what that costs in CPU. The same input
 * and the same output (10 s windows from trades) for all of them.
 */
export interface CatchUpSetup {
  root: string;
  brokers: string[];
  clickhouseUrl: string;
  windowSeconds: number;
  graceMs: number;
  /** The step's trades topic and how many trades it holds. */
  tradesTopic: string;
  trades: number;
  /** An empty topic standing in for the depth topic, so that the aggregator reads trades only. */
  emptyTopic: string;
  dlqTopic: string;
  /** Where the project and the Kafka engine write in catch-up (the live run's database keeps its windows). */
  database: string;
  /** Where the naive consumer and the Spark job write (the live run's database: their windows are compared there). */
  naiveDatabase: string;
  /** A client without a default database; statements name theirs. */
  db: ClickHouseClient;
  admin: Admin;
  meter: ProcessMeter;
  seconds: number;
  logFile: (name: string) => string;
  /** Extra settings for the aggregator (the bench's own win). */
  serviceEnv: Record<string, string>;
  aggregatorNodeArgs: string[];
}

const POLL_MS = 250;
/** The project's progress is read from its metrics endpoint, cheaply and more often. */
const FAST_POLL_MS = 100;

function figures(messages: number, seconds: number, cpuSeconds: number, cpuOf: string): CatchUpFigures {
  return {
    status: 'ok',
    messages,
    seconds: Math.round(seconds * 10) / 10,
    rate: seconds > 0 ? Math.round(messages / seconds) : 0,
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    msgsPerCpuSecond: cpuSeconds > 0 ? Math.round(messages / cpuSeconds) : 0,
    cpuOf,
  };
}

async function countRows(db: ClickHouseClient, query: string): Promise<number> {
  const [row] = await (await db.query({ query, format: 'JSONEachRow' })).json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

export function failed(error: unknown): CatchUpFigures {
  return {
    status: 'error',
    error: error instanceof Error ? error.message : String(error),
    messages: 0,
    seconds: 0,
    rate: 0,
    cpuSeconds: 0,
    msgsPerCpuSecond: 0,
    cpuOf: '',
  };
}

/** The project's aggregator on the trades topic only (depth points at an empty topic). */
export async function projectCatchUp(setup: CatchUpSetup, groupId: string): Promise<CatchUpFigures> {
  const aggregator = new ServiceProcess({
    name: 'aggregator (catch-up)',
    entry: 'aggregator/src/main.ts',
    cwd: setup.root,
    logFile: setup.logFile('aggregator-catchup'),
    nodeArgs: setup.aggregatorNodeArgs,
    env: {
      ...setup.serviceEnv,
      KAFKA_BROKERS: setup.brokers.join(','),
      TOPIC_TRADES: setup.tradesTopic,
      TOPIC_DEPTH: setup.emptyTopic,
      TOPIC_DLQ: setup.dlqTopic,
      CLICKHOUSE_URL: setup.clickhouseUrl,
      CLICKHOUSE_DB: setup.database,
      GROUP_ID: groupId,
      WINDOW_SECONDS: String(setup.windowSeconds),
      WINDOW_GRACE_MS: String(setup.graceMs),
      AGGREGATOR_PORT: '0',
      AGGREGATOR_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
  });
  try {
    const started = await aggregator.waitForLine(/"port":(\d+).*aggregator started/, 60_000);
    const metricsUrl = `http://127.0.0.1:${started[1]}/metrics`;
    setup.meter.track('aggregator-catchup', aggregator.pid);
    // It has joined the group and read nothing yet: the clock starts here.
    const start = setup.meter.mark();
    let processed = 0;
    let at = start.atMs;
    let metrics = '';
    for (;;) {
      const exit = await Promise.race([aggregator.exited, sleep(FAST_POLL_MS).then(() => undefined)]);
      if (exit) throw new Error(`the aggregator exited (${describeExit(exit)}):\n${aggregator.tail()}`);
      const text = await fetchText(metricsUrl);
      if (text) {
        metrics = text;
        processed = sumSamples(text, 'aggregator_messages_total');
      }
      at = Date.now();
      if (at - start.atMs >= setup.seconds * 1000) break;
      // Done when every trade is read and its row is in ClickHouse (the Kafka engine's measure too).
      if (processed >= setup.trades) {
        const written = await countRows(setup.db, `SELECT count() AS n FROM ${setup.database}.trades`);
        if (written >= setup.trades) break;
      }
    }
    if (processed === 0) throw new Error(`the aggregator read nothing in ${setup.seconds} s:\n${aggregator.tail()}`);
    const usage = setup.meter.usage(start, setup.meter.mark(at));
    const aggregatorCpu = usage['aggregator-catchup']?.cpuSeconds ?? 0;
    const clickhouseCpu = usage['clickhouse:serving']?.cpuSeconds ?? 0;
    const cpu = aggregatorCpu + clickhouseCpu;
    const inserts = sumSamples(metrics, 'aggregator_insert_duration_seconds_count');
    const insertSeconds = sumSamples(metrics, 'aggregator_insert_duration_seconds_sum');
    return {
      ...figures(
        Math.min(processed, setup.trades),
        (at - start.atMs) / 1000,
        cpu,
        'aggregator process + ClickHouse HTTP and merge threads',
      ),
      // What the aggregator waited on: reads paused for writes, and how long its inserts took.
      detail:
        `CPU ${aggregatorCpu.toFixed(2)} s aggregator + ${clickhouseCpu.toFixed(2)} s ClickHouse; ` +
        `reading paused ${sumSamples(metrics, 'aggregator_consumer_pauses_total')} time(s) for writes; ` +
        `${inserts} inserts, ${inserts > 0 ? Math.round((insertSeconds / inserts) * 1000) : 0} ms each on average`,
    };
  } finally {
    await aggregator.stop(15_000);
    setup.meter.untrack('aggregator-catchup');
  }
}

/**
 * ClickHouse's Kafka engine, with its group set to the start of the topic. Its CPU is its
 * consumer's threads; the fair variant also counts the merge threads, as the project's
 * figure does, since its raw trades table is merged as the project's is.
 */
export async function kafkaEngineCatchUp(
  setup: CatchUpSetup,
  groupId: string,
  variant: KafkaPeerVariant,
): Promise<CatchUpFigures> {
  // The fair variant copies the project's trades table: the catch-up database needs the project's schema.
  await migrate({ url: setup.clickhouseUrl, database: setup.database });
  await commitStart(setup.admin, groupId, setup.tradesTopic);
  const statements = kafkaPeerStatements({
    variant,
    database: setup.database,
    brokers: setup.brokers,
    topic: setup.tradesTopic,
    groupId,
    windowSeconds: setup.windowSeconds,
  });
  const start = setup.meter.mark();
  try {
    for (const query of statements) await setup.db.command({ query });
    let last = { consumed: 0, at: start.atMs };
    const deadline = start.atMs + setup.seconds * 1000;
    while (Date.now() < deadline && last.consumed < setup.trades) {
      const consumed = await countRows(setup.db, kafkaPeerConsumedQuery(setup.database, variant));
      if (consumed > last.consumed) last = { consumed, at: Date.now() };
      await sleep(POLL_MS);
    }
    if (last.consumed === 0) throw new Error(`read nothing in ${setup.seconds} s`);
    const usage = setup.meter.usage(start, setup.meter.mark(last.at));
    const consumerCpu = usage['clickhouse:kafka-engine']?.cpuSeconds ?? 0;
    const fair = variant === 'fair';
    return figures(
      last.consumed,
      (last.at - start.atMs) / 1000,
      fair ? consumerCpu + (usage['clickhouse:merges']?.cpuSeconds ?? 0) : consumerCpu,
      `ClickHouse schedule-pool${fair ? ', librdkafka and merge' : ' and librdkafka'} threads`,
    );
  } finally {
    for (const query of dropKafkaPeerStatements(setup.database, variant)) await setup.db.command({ query });
  }
}

/** The naive consumer: one INSERT per trade. */
export async function naiveCatchUp(setup: CatchUpSetup, groupId: string): Promise<CatchUpFigures> {
  await setup.db.command({ query: naiveTableStatement(setup.naiveDatabase) });
  const naive = new ServiceProcess({
    name: 'naive',
    entry: 'bench/src/naive-peer.ts',
    cwd: setup.root,
    logFile: setup.logFile('naive'),
    ipc: true,
    env: {
      BENCH_NAIVE: JSON.stringify({
        brokers: setup.brokers,
        topic: setup.tradesTopic,
        groupId,
        clickhouseUrl: setup.clickhouseUrl,
        database: setup.naiveDatabase,
        table: NAIVE_TRADES_TABLE,
      }),
    },
  });
  let latest: NaiveProgress | undefined;
  let first: { progress: NaiveProgress; mark: ReturnType<ProcessMeter['mark']> } | undefined;
  setup.meter.track('naive', naive.pid);
  naive.onMessage((raw) => {
    const progress = naiveProgressSchema.safeParse(raw);
    if (!progress.success) return;
    latest = progress.data;
    if (!first && latest.inserted > 0) first = { progress: latest, mark: setup.meter.mark(latest.atMs) };
  });
  try {
    const giveUp = Date.now() + 30_000;
    for (;;) {
      const exit = await Promise.race([naive.exited, sleep(POLL_MS).then(() => undefined)]);
      if (exit) throw new Error(`the naive consumer exited (${describeExit(exit)}):\n${naive.tail()}`);
      if (latest && latest.inserted >= setup.trades) break;
      if (first && latest && latest.atMs - first.progress.atMs >= setup.seconds * 1000) break;
      if (!first && Date.now() > giveUp)
        throw new Error(`the naive consumer inserted nothing in 30 s:\n${naive.tail()}`);
    }
    const end = latest;
    if (!first || !end) throw new Error('the naive consumer inserted nothing');
    const usage = setup.meter.usage(first.mark, setup.meter.mark(end.atMs));
    const result = figures(
      end.inserted - first.progress.inserted,
      (end.atMs - first.progress.atMs) / 1000,
      (usage.naive?.cpuSeconds ?? 0) + (usage.clickhouse?.cpuSeconds ?? 0),
      'naive consumer process + the whole ClickHouse process',
    );
    return {
      ...result,
      insertErrors: end.errors,
      ...(end.lastError ? { lastInsertError: end.lastError } : {}),
    };
  } finally {
    await naive.stop(10_000);
    setup.meter.untrack('naive');
  }
}
