import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { uniqueName } from '@candleflow/common/testing';
import { failed, kafkaEngineCatchUp, naiveCatchUp, projectCatchUp, type CatchUpSetup } from './catch-up.js';
import { fetchText } from './http-text.js';
import { commitStart, groupCommitted, topicEnd } from './kafka-offsets.js';
import { slope } from './linear-trend.js';
import { distribution } from './percentiles.js';
import { TREND_BIN_S, rateTrend, saturation } from './rate-trend.js';
import {
  dropKafkaPeerStatements,
  kafkaPeerConsumedQuery,
  kafkaPeerStatements,
  kafkaPeerTables,
  tradesChecksumQuery,
} from './peer-tables.js';
import { firstFrameAt, producerCounters, startFeed } from './producer-service.js';
import { ProcessMeter } from './process-meter.js';
import { sumSamples } from './prometheus-text.js';
import type {
  CatchUpFigures,
  Efficiency,
  KafkaEngineLatency,
  ProjectLatency,
  SeriesPoint,
  StepPlan,
  StepResult,
} from './results.js';
import { ServiceProcess, describeExit, type Exit } from './service-process.js';
import { sparkCatchUp } from './spark-peer.js';
import type { SimStats } from './sim-handle.js';
import { StepFiles } from './step-files.js';
import { compareWindows, readInFull } from './window-compare.js';
import { readWindowProgress, readWindows } from './window-readers.js';
import { WindowTimeline } from './window-timeline.js';

export interface BenchContext {
  root: string;
  brokers: string[];
  clickhouseUrl: string;
  compression: string;
  seed: number;
  windowSeconds: number;
  graceMs: number;
  warmupS: number;
  /** Longest each implementation reads the stored topic in the catch-up comparison. */
  catchUpSeconds: number;
  /** Whether the project and the Kafka engines also run the catch-up (the naive consumer always does, if on). */
  catchUpAll: boolean;
  /** Processes run under `node --cpu-prof` (sim, producer, aggregator). */
  profile: string[];
  /** Extra settings for the producer and the aggregator; the bench's own (topics, database, ports, windows) win. */
  serviceEnv: Record<string, string>;
  /** kafkaEngine: the fair variant (live and catch-up); kafkaEngineWindowsOnly: the windows-only one (catch-up only). */
  /** spark: the Spark job (installed on demand), catch-up only. */
  peers: { kafkaEngine: boolean; kafkaEngineWindowsOnly: boolean; naive: boolean; spark?: boolean };
  logDir: string;
  kafkaPid: number | undefined;
  clickhousePid: number | undefined;
  clickhouseErrorLog: string | undefined;
  say: (line: string) => void;
}

const PARTITIONS = 6;
const POLL_MS = 200;
const SAMPLE_MS = 1000;
const PROGRESS_MS = 5000;
const DRAIN_TIMEOUT_MS = 60_000;
const LATENCY_SAMPLE = 20_000;
/** Windows whose close (end + grace) came this long before the input stopped closed on trades, not on the idle timer. */
const CLOSED_BY_TRADES_MARGIN_MS = 1000;

/** Thread names of ClickHouse's own Kafka consumer: its schedule pool and librdkafka. */
const isKafkaEngineThread = (name: string): boolean =>
  name.startsWith('BackgrSchedPool') || name.startsWith('BckSchPoolDelay') || name.startsWith('rdk:');
/** Threads merging parts. */
const isMergeThread = (name: string): boolean => name.startsWith('BackgrProcPool');
/** Threads serving HTTP inserts and queries, and merging parts. */
const isServingThread = (name: string): boolean => name.startsWith('HTTPHandler') || isMergeThread(name);

interface Names {
  trades: string;
  depth: string;
  dlq: string;
  empty: string;
  database: string;
  catchUpDatabase: string;
  group: string;
  kafkaEngineGroup: string;
  catchUpGroup: string;
  catchUpKafkaEngineGroup: string;
  catchUpWindowsOnlyGroup: string;
  naiveGroup: string;
}

function stepNames(): Names {
  return {
    trades: uniqueName('bench_trades'),
    depth: uniqueName('bench_depth'),
    dlq: uniqueName('bench_dlq'),
    empty: uniqueName('bench_empty'),
    database: uniqueName('bench'),
    catchUpDatabase: uniqueName('bench_catchup'),
    group: uniqueName('bench_aggregator'),
    kafkaEngineGroup: uniqueName('bench_chkafka'),
    catchUpGroup: uniqueName('bench_aggregator_catchup'),
    catchUpKafkaEngineGroup: uniqueName('bench_chkafka_catchup'),
    catchUpWindowsOnlyGroup: uniqueName('bench_chkafka_wo_catchup'),
    naiveGroup: uniqueName('bench_naive'),
  };
}

const round = (value: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function efficiency(messages: number, cpuSeconds: number, cpuOf: string): Efficiency {
  return {
    messages,
    cpuSeconds: round(cpuSeconds, 2),
    msgsPerCpuSecond: cpuSeconds > 0 ? Math.round(messages / cpuSeconds) : 0,
    cpuOf,
  };
}

const off: CatchUpFigures = {
  status: 'off',
  messages: 0,
  seconds: 0,
  rate: 0,
  cpuSeconds: 0,
  msgsPerCpuSecond: 0,
  cpuOf: '',
};

/** The new lines of ClickHouse's error log that mention Kafka, since `offset`. */
function kafkaErrorsSince(file: string | undefined, offset: number): string | undefined {
  if (!file || !existsSync(file)) return undefined;
  const text = readFileSync(file).subarray(offset).toString('utf8');
  const lines = text.split('\n').filter((l) => /kafka/i.test(l) && !/^\s*\d+\.\s/.test(l));
  return lines.length > 0 ? lines.slice(-5).join('\n') : undefined;
}

async function exitedYet(child: ServiceProcess): Promise<Exit | undefined> {
  return Promise.race([child.exited, Promise.resolve(undefined)]);
}

async function count(db: ClickHouseClient, query: string): Promise<number> {
  const [row] = await (await db.query({ query, format: 'JSONEachRow' })).json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

function since(at: number | undefined, fromMs: number): number | undefined {
  return at === undefined ? undefined : at - fromMs;
}

/**
 * One step:
 * 1. live: fresh topics, database and groups; the simulator at `plan.rate` for
 *    `plan.durationS` through producer -> Kafka -> aggregator -> ClickHouse, with
 *    ClickHouse's own Kafka engine reading the same trades topic; window tables polled
 *    every 200 ms; then a drain until everything is processed and final;
 * 2. catch-up: the project (trades only), the Kafka engine (fair, then windows only) and
 *    the naive consumer, each alone on the stored trades topic for a bounded time;
 * 3. the windows of each compared with the project's, the fair Kafka engine's raw trades
 *    with the project's, latencies worked out from the polls, and
 *    everything the step created dropped.
 */
export async function runStep(plan: StepPlan, ctx: BenchContext, label: string, fileTag: string): Promise<StepResult> {
  const names = stepNames();
  const notes: string[] = [];
  const kafka = new Kafka({ clientId: 'bench', brokers: ctx.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const server = createClient({ url: ctx.clickhouseUrl, request_timeout: 60_000 });
  const db = createClient({ url: ctx.clickhouseUrl, database: names.database, request_timeout: 60_000 });
  const children: ServiceProcess[] = [];
  const files = new StepFiles(ctx.logDir, fileTag, ctx.profile);
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [names.trades, names.depth, names.dlq, names.empty].map((topic) => ({
        topic,
        numPartitions: PARTITIONS,
      })),
    });
    await migrate({ url: ctx.clickhouseUrl, database: names.database });

    const meter = new ProcessMeter();
    if (ctx.kafkaPid !== undefined) meter.track('kafka', ctx.kafkaPid);
    if (ctx.clickhousePid !== undefined) {
      meter.track('clickhouse', ctx.clickhousePid);
      meter.trackThreads({ name: 'clickhouse:kafka-engine', pid: ctx.clickhousePid, threadNames: isKafkaEngineThread });
      meter.trackThreads({ name: 'clickhouse:serving', pid: ctx.clickhousePid, threadNames: isServingThread });
      meter.trackThreads({ name: 'clickhouse:merges', pid: ctx.clickhousePid, threadNames: isMergeThread });
    }

    const errorLogOffset =
      ctx.clickhouseErrorLog && existsSync(ctx.clickhouseErrorLog) ? statSync(ctx.clickhouseErrorLog).size : 0;
    let kafkaEngineError: string | undefined;
    if (ctx.peers.kafkaEngine) {
      try {
        // The engine's consumer starts at the end of the topic unless its group has offsets.
        await commitStart(admin, names.kafkaEngineGroup, names.trades);
        const statements = kafkaPeerStatements({
          variant: 'fair',
          database: names.database,
          brokers: ctx.brokers,
          topic: names.trades,
          groupId: names.kafkaEngineGroup,
          windowSeconds: ctx.windowSeconds,
        });
        for (const query of statements) await server.command({ query });
      } catch (error) {
        kafkaEngineError = `could not create the Kafka engine tables: ${message(error)}`;
      }
    }

    const aggregator = new ServiceProcess({
      name: 'aggregator',
      entry: 'aggregator/src/main.ts',
      cwd: ctx.root,
      logFile: files.log('aggregator'),
      nodeArgs: files.nodeArgs('aggregator'),
      env: {
        ...ctx.serviceEnv,
        KAFKA_BROKERS: ctx.brokers.join(','),
        TOPIC_TRADES: names.trades,
        TOPIC_DEPTH: names.depth,
        TOPIC_DLQ: names.dlq,
        CLICKHOUSE_URL: ctx.clickhouseUrl,
        CLICKHOUSE_DB: names.database,
        GROUP_ID: names.group,
        WINDOW_SECONDS: String(ctx.windowSeconds),
        WINDOW_GRACE_MS: String(ctx.graceMs),
        AGGREGATOR_PORT: '0',
        AGGREGATOR_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
    });
    children.push(aggregator);
    // Both start at once; the market waits for the producer's subscription, the producer for the aggregator.
    const { sim, producer, producerMetricsUrl, ready } = await startFeed(
      { ctx, plan, files, topics: { trades: names.trades, depth: names.depth, partitions: PARTITIONS } },
      children,
      aggregator.waitForLine(/"port":(\d+).*aggregator started/, 60_000),
    );
    const aggregatorMetricsUrl = `http://127.0.0.1:${ready[1]}/metrics`;
    meter.track('sim', sim.process.pid);
    meter.track('producer', producer.pid);
    meter.track('aggregator', aggregator.pid);
    const runStart = meter.mark();

    const t0 = await firstFrameAt(sim, producer);

    // Both window tables polled every POLL_MS until the drain is over.
    const timelines = { project: new WindowTimeline(), kafkaEngine: new WindowTimeline() };
    const pollSinceMs = t0 - ctx.windowSeconds * 1000;
    const pollFailures = new Map<string, number>();
    let polling = true;
    const poll = async (): Promise<void> => {
      while (polling) {
        const begin = Date.now();
        for (const implementation of ['project', 'kafkaEngine'] as const) {
          if (implementation === 'kafkaEngine' && (!ctx.peers.kafkaEngine || kafkaEngineError)) continue;
          try {
            const rows = await readWindowProgress(db, implementation, pollSinceMs);
            const at = Date.now();
            for (const row of rows) {
              timelines[implementation].observe(row.symbol, row.windowStartMs, row.lastTradeId, row.isFinal, at);
            }
          } catch (error) {
            const key = `${implementation}: ${message(error)}`;
            pollFailures.set(key, (pollFailures.get(key) ?? 0) + 1);
          }
        }
        await sleep(Math.max(0, POLL_MS - (Date.now() - begin)));
      }
    };
    const polls = poll();

    // Per-second samples of the live phase.
    const series: SeriesPoint[] = [];
    const counters = { producerDropped: 0, tradesDropped: 0, tradesUnrepairable: 0, pauses: 0, late: 0, dlq: 0 };
    const sample = async (simStats: SimStats | undefined): Promise<SeriesPoint> => {
      const [trades, depth, committedTrades, committedDepth, aggText, prodText] = await Promise.all([
        topicEnd(admin, names.trades),
        topicEnd(admin, names.depth),
        groupCommitted(admin, names.group, names.trades),
        groupCommitted(admin, names.group, names.depth),
        fetchText(aggregatorMetricsUrl),
        fetchText(producerMetricsUrl),
      ]);
      const last = series.at(-1);
      if (aggText) {
        counters.pauses = sumSamples(aggText, 'aggregator_consumer_pauses_total');
        counters.late = sumSamples(aggText, 'aggregator_late_trades_total');
        counters.dlq = sumSamples(aggText, 'aggregator_dlq_messages_total');
      }
      if (prodText) {
        const producerLosses = producerCounters(prodText, names.trades);
        counters.producerDropped = producerLosses.dropped;
        counters.tradesDropped = producerLosses.tradesDropped;
        counters.tradesUnrepairable = producerLosses.tradesUnrepairable;
      }
      return {
        t: round(((simStats?.atMs ?? Date.now()) - t0) / 1000, 2),
        simFrames: simStats ? simStats.trades + simStats.depth : (last?.simFrames ?? 0),
        kafkaMessages: trades + depth,
        processed: aggText ? sumSamples(aggText, 'aggregator_messages_total') : (last?.processed ?? 0),
        committed: committedTrades + committedDepth,
      };
    };

    const warmupEnd = t0 + ctx.warmupS * 1000;
    const liveEnd = t0 + plan.durationS * 1000;
    let measureStart: ReturnType<ProcessMeter['mark']> | undefined;
    let measureStartPoint: SeriesPoint | undefined;
    let lastProgress = Date.now();
    let progressMark = runStart;
    while (Date.now() < liveEnd) {
      const begin = Date.now();
      const point = await sample(await sim.stats());
      series.push(point);
      const mark = meter.mark();
      if (!measureStart && mark.atMs >= warmupEnd) {
        measureStart = mark;
        measureStartPoint = point;
      }
      for (const child of children) {
        const exit = await exitedYet(child);
        if (exit) throw new Error(`${child.name} exited during the step (${describeExit(exit)}):\n${child.tail()}`);
      }
      if (mark.atMs - lastProgress >= PROGRESS_MS) {
        lastProgress = mark.atMs;
        ctx.say(progressLine(label, plan, series, meter.usage(progressMark, mark)));
        progressMark = mark;
      }
      await sleep(Math.max(0, Math.min(SAMPLE_MS - (Date.now() - begin), liveEnd - Date.now())));
    }
    const endPoint = await sample(await sim.stats());
    series.push(endPoint);
    const measureEnd = meter.mark();
    const startPoint = measureStartPoint ?? series[0] ?? endPoint;
    const live = meter.usage(measureStart ?? runStart, measureEnd);
    const loadAverage = round(os.loadavg()[0] ?? 0, 2);

    // End of input: the simulator stops, the producer flushes and exits.
    const inputEnd = Date.now();
    const simExit = await sim.stop();
    if (simExit.code !== 0) notes.push(`the simulator exited with ${describeExit(simExit)}`);
    const producerExit = await producer.stop(20_000);
    if (producerExit.code !== 0) notes.push(`the producer exited with ${describeExit(producerExit)}`);
    const tradesInKafka = await topicEnd(admin, names.trades);
    const depthInKafka = await topicEnd(admin, names.depth);
    const kafkaTotal = tradesInKafka + depthInKafka;
    ctx.say(`${label}: input stopped; ${tradesInKafka} trades and ${depthInKafka} depth messages on Kafka; draining`);

    // Drain: everything processed and every window final; the Kafka engine has every trade.
    let projectDrain: { at: number; mark: ReturnType<ProcessMeter['mark']> } | undefined;
    let engineDrain: { at: number; mark: ReturnType<ProcessMeter['mark']> } | undefined;
    let engineConsumed = 0;
    const engineLive = ctx.peers.kafkaEngine && !kafkaEngineError;
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (Date.now() < drainDeadline && (!projectDrain || (engineLive && !engineDrain))) {
      if (!projectDrain) {
        const aggText = await fetchText(aggregatorMetricsUrl);
        const processed = aggText ? sumSamples(aggText, 'aggregator_messages_total') : 0;
        const open = await count(
          db,
          `SELECT count() AS n FROM (SELECT symbol, window_start, max(is_final) AS f FROM trade_windows
            GROUP BY symbol, window_start) WHERE f = 0`,
        );
        if (processed >= kafkaTotal && open === 0) projectDrain = { at: Date.now(), mark: meter.mark() };
      }
      if (engineLive && !engineDrain) {
        engineConsumed = await count(db, kafkaPeerConsumedQuery(names.database, 'fair'));
        if (engineConsumed >= tradesInKafka) engineDrain = { at: Date.now(), mark: meter.mark() };
      }
      await sleep(250);
    }
    polling = false;
    await polls;
    for (const [failure, times] of pollFailures) notes.push(`${times} poll(s) failed: ${failure}`);
    if (!projectDrain)
      notes.push(`the project had not processed everything ${DRAIN_TIMEOUT_MS / 1000} s after the input ended`);
    const aggregatorExit = await aggregator.stop(20_000);
    if (aggregatorExit.code !== 0) notes.push(`the aggregator exited with ${describeExit(aggregatorExit)}`);
    meter.untrack('aggregator');
    if (ctx.peers.kafkaEngine) {
      for (const query of dropKafkaPeerStatements(names.database, 'fair')) await server.command({ query });
      if (!kafkaEngineError && !engineDrain) {
        const logged = kafkaErrorsSince(ctx.clickhouseErrorLog, errorLogOffset);
        kafkaEngineError =
          `it had read ${engineConsumed} of ${tradesInKafka} trades ${DRAIN_TIMEOUT_MS / 1000} s after the input ended` +
          (logged ? `; ClickHouse logged:\n${logged}` : '');
      }
    }

    // Catch-up: each alone on the stored trades topic.
    const setup: CatchUpSetup = {
      root: ctx.root,
      brokers: ctx.brokers,
      clickhouseUrl: ctx.clickhouseUrl,
      windowSeconds: ctx.windowSeconds,
      graceMs: ctx.graceMs,
      tradesTopic: names.trades,
      trades: tradesInKafka,
      emptyTopic: names.empty,
      dlqTopic: names.dlq,
      database: names.catchUpDatabase,
      naiveDatabase: names.database,
      db: server,
      admin,
      meter,
      seconds: ctx.catchUpSeconds,
      logFile: (name) => files.log(name),
      serviceEnv: ctx.serviceEnv,
      aggregatorNodeArgs: files.nodeArgs('aggregator-catchup', 'aggregator'),
    };
    ctx.say(`${label}: catch-up on the ${tradesInKafka} stored trades, each alone for up to ${ctx.catchUpSeconds} s`);
    const report = (name: string, figures: CatchUpFigures): CatchUpFigures => {
      if (figures.status === 'ok') {
        ctx.say(
          `${label}: catch-up ${name}: ${figures.messages} trades in ${figures.seconds} s (${figures.rate}/s), ` +
            `${figures.msgsPerCpuSecond} trades per CPU-second`,
        );
      } else if (figures.status === 'error') {
        ctx.say(`${label}: catch-up ${name} failed: ${figures.error ?? '?'}`);
      }
      return figures;
    };
    const catchUp = {
      project: report('project', ctx.catchUpAll ? await projectCatchUp(setup, names.catchUpGroup).catch(failed) : off),
      kafkaEngine: report(
        'Kafka engine',
        ctx.catchUpAll && ctx.peers.kafkaEngine
          ? await kafkaEngineCatchUp(setup, names.catchUpKafkaEngineGroup, 'fair').catch(failed)
          : off,
      ),
      kafkaEngineWindowsOnly: report(
        'Kafka engine (windows only)',
        ctx.catchUpAll && ctx.peers.kafkaEngineWindowsOnly
          ? await kafkaEngineCatchUp(setup, names.catchUpWindowsOnlyGroup, 'windows-only').catch(failed)
          : off,
      ),
      naive: report('naive', ctx.peers.naive ? await naiveCatchUp(setup, names.naiveGroup).catch(failed) : off),
      spark: report('Spark', ctx.peers.spark ? await sparkCatchUp(setup).catch(failed) : off),
    };

    // Windows of each peer, compared with the project's live ones.
    const projectWindows = await readWindows(db, 'project', ctx.windowSeconds);
    const projectTrades = projectWindows.reduce((sum, w) => sum + w.trades, 0);
    if (projectTrades !== tradesInKafka) {
      notes.push(`the project's windows count ${projectTrades} trades; the trades topic holds ${tradesInKafka}`);
    }
    const kafkaEngineComparison = ctx.peers.kafkaEngine
      ? compareWindows(projectWindows, await readWindows(db, 'kafkaEngine', ctx.windowSeconds))
      : null;
    // The fair peer's raw trades against the project's: the same rows, by count and checksum.
    let kafkaEngineTrades: StepResult['windows']['kafkaEngineTrades'] = null;
    const peerTradesTable = kafkaPeerTables('fair').trades;
    if (engineLive && peerTradesTable) {
      const checksum = async (table: string): Promise<{ n: number; sum: string }> => {
        const [row] = await (
          await db.query({ query: tradesChecksumQuery(names.database, table), format: 'JSONEachRow' })
        ).json<{ n: string | number; sum: string }>();
        return { n: Number(row?.n ?? 0), sum: row?.sum ?? '' };
      };
      const [own, peer] = [await checksum('trades'), await checksum(peerTradesTable)];
      kafkaEngineTrades = { project: own.n, kafkaEngine: peer.n, equal: own.n === peer.n && own.sum === peer.sum };
      if (!kafkaEngineTrades.equal) {
        notes.push(`the Kafka engine's raw trades differ from the project's (${peer.n} rows against ${own.n})`);
      }
    }
    // The windows-only engine ran in catch-up only: compare the windows it read in full there.
    let windowsOnlyComparison: StepResult['windows']['kafkaEngineWindowsOnly'] = null;
    if (catchUp.kafkaEngineWindowsOnly.status === 'ok') {
      const catchUpDb = createClient({ url: ctx.clickhouseUrl, database: names.catchUpDatabase });
      try {
        const windows = await readWindows(catchUpDb, 'kafkaEngineWindowsOnly', ctx.windowSeconds);
        windowsOnlyComparison = compareWindows(projectWindows, windows, { include: readInFull(windows) });
      } finally {
        await catchUpDb.close();
      }
    }
    let naiveComparison: StepResult['windows']['naive'] = null;
    if (ctx.peers.naive && catchUp.naive.status === 'ok') {
      const naiveWindows = await readWindows(db, 'naive', ctx.windowSeconds);
      // Per symbol the naive consumer read a prefix of the trades: compare the windows it read in full.
      naiveComparison = {
        ...compareWindows(projectWindows, naiveWindows, { include: readInFull(naiveWindows) }),
        naiveTrades: naiveWindows.reduce((sum, w) => sum + w.trades, 0),
      };
    }

    // The live probe closed every stored window of the Spark job: all of them compare.
    const sparkComparison =
      catchUp.spark?.status === 'ok'
        ? compareWindows(projectWindows, await readWindows(db, 'spark', ctx.windowSeconds))
        : null;

    // Latencies from the polls, for a sample of the trades (read back from the project's trades table).
    const every = Math.max(1, Math.round(tradesInKafka / LATENCY_SAMPLE));
    const sampled = await (
      await db.query({
        query: `SELECT DISTINCT symbol, trade_id, trade_time_ms FROM trades WHERE trade_id % ${every} = 0`,
        format: 'JSONEachRow',
      })
    ).json<{ symbol: string; trade_id: string; trade_time_ms: string }>();
    // Only what happened after the warm-up counts, like the rates and the CPU.
    const trades = sampled
      .map((t) => ({ symbol: t.symbol, id: Number(t.trade_id), timeMs: Number(t.trade_time_ms) }))
      .filter((t) => t.timeMs >= warmupEnd);
    const windowMs = ctx.windowSeconds * 1000;
    const startOf = (timeMs: number): number => Math.floor(timeMs / windowMs) * windowMs;
    const closeOf = (startMs: number): number => startMs + windowMs + ctx.graceMs;
    const closedByTrades = (startMs: number): boolean =>
      closeOf(startMs) >= warmupEnd && closeOf(startMs) <= inputEnd - CLOSED_BY_TRADES_MARGIN_MS;
    const closable = projectWindows.filter((w) => closedByTrades(w.windowStartMs));
    const closableTrades = trades.filter((t) => closedByTrades(startOf(t.timeMs)));
    const projectLatency: ProjectLatency = {
      open: distribution(
        trades.map((t) => since(timelines.project.firstReadable(t.symbol, startOf(t.timeMs), t.id), t.timeMs)),
      ),
      finalAfterClose: distribution(
        closable.map((w) => since(timelines.project.finalAt(w.symbol, w.windowStartMs), closeOf(w.windowStartMs))),
      ),
      finalFromTrade: distribution(
        closableTrades.map((t) => since(timelines.project.finalAt(t.symbol, startOf(t.timeMs)), t.timeMs)),
      ),
    };
    let kafkaEngineLatency: KafkaEngineLatency | null = null;
    if (engineLive && timelines.kafkaEngine.size > 0) {
      const lastIds = new Map(projectWindows.map((w) => [`${w.symbol}\u0000${w.windowStartMs}`, w.lastTradeId]));
      const complete = (symbol: string, start: number): number | undefined => {
        const last = lastIds.get(`${symbol}\u0000${start}`);
        return last === undefined ? undefined : timelines.kafkaEngine.firstReadable(symbol, start, last);
      };
      kafkaEngineLatency = {
        open: distribution(
          trades.map((t) => since(timelines.kafkaEngine.firstReadable(t.symbol, startOf(t.timeMs), t.id), t.timeMs)),
        ),
        completeAfterClose: distribution(
          closable.map((w) => since(complete(w.symbol, w.windowStartMs), closeOf(w.windowStartMs))),
        ),
        completeFromTrade: distribution(
          closableTrades.map((t) => since(complete(t.symbol, startOf(t.timeMs)), t.timeMs)),
        ),
      };
    }

    // Sustained: the asked rate reached Kafka and was processed without a growing backlog.
    const measuredS = Math.max(0.001, endPoint.t - startPoint.t);
    const rate = (key: 'simFrames' | 'kafkaMessages' | 'processed'): number =>
      Math.round((endPoint[key] - startPoint[key]) / measuredS);
    const simRate = rate('simFrames');
    const kafkaRate = rate('kafkaMessages');
    const processedRate = rate('processed');
    const lagPoints = series
      .filter((p) => p.t >= startPoint.t)
      .map((p) => ({ x: p.t, y: p.kafkaMessages - p.processed }));
    const lagSlope = slope(lagPoints);
    const processedTrend = rateTrend(
      series.filter((p) => p.t >= startPoint.t).map((p) => ({ t: p.t, count: p.processed })),
      TREND_BIN_S,
    );
    const shortfalls: string[] = [];
    if (simRate < 0.95 * plan.rate)
      shortfalls.push(`input reached ${simRate}/s of ${plan.rate}/s (the simulator was held back)`);
    if (kafkaRate < 0.95 * simRate) shortfalls.push(`Kafka received ${kafkaRate}/s of the ${simRate}/s sent`);
    if (lagSlope > 0.02 * plan.rate) shortfalls.push(`the aggregator's backlog grew by ${Math.round(lagSlope)} msgs/s`);
    if (counters.producerDropped > 0) shortfalls.push(`the producer dropped ${counters.producerDropped} messages`);
    const sustained = shortfalls.length === 0;

    // CPU and RSS per process over the measured live phase; CPU per implementation over its whole live run.
    const processes: StepResult['processes'] = {};
    for (const [name, usage] of Object.entries(live)) {
      processes[name] = { cpuPercent: round(usage.cpuPercent, 1), maxRssBytes: usage.maxRssBytes };
    }
    const stackRssBytes = ['sim', 'producer', 'aggregator', 'kafka', 'clickhouse'].reduce(
      (sum, name) => sum + (live[name]?.maxRssBytes ?? 0),
      0,
    );
    const projectRun = meter.usage(runStart, projectDrain?.mark ?? measureEnd);
    const aggregatorCpu = projectRun.aggregator?.cpuSeconds ?? 0;
    const servingCpu = projectRun['clickhouse:serving']?.cpuSeconds ?? 0;
    const processedTotal = projectDrain ? kafkaTotal : endPoint.processed;
    const engineRun = engineDrain ? meter.usage(runStart, engineDrain.mark) : undefined;

    return {
      plan,
      warmupS: ctx.warmupS,
      loadAverage,
      names: { tradesTopic: names.trades, depthTopic: names.depth, database: names.database, group: names.group },
      input: {
        simRate,
        kafkaRate,
        processedRate,
        simFrames: endPoint.simFrames,
        tradesInKafka,
        depthInKafka,
        sustained,
        verdict: sustained ? `held ${simRate}/s with a flat backlog` : shortfalls.join('; '),
        processedTrend,
        processedSaturation: saturation(plan.rate, processedTrend),
        processedLag: {
          atStart: startPoint.kafkaMessages - startPoint.processed,
          atEnd: endPoint.kafkaMessages - endPoint.processed,
          max: Math.max(0, ...lagPoints.map((p) => p.y)),
          slopePerS: round(lagSlope, 1),
        },
        committedLag: {
          max: Math.max(0, ...series.map((p) => p.kafkaMessages - p.committed)),
          atEnd: endPoint.kafkaMessages - endPoint.committed,
        },
        producerDropped: counters.producerDropped,
        tradesDropped: counters.tradesDropped,
        tradesUnrepairable: counters.tradesUnrepairable,
        aggregatorPauses: counters.pauses,
        lateTrades: counters.late,
        deadLetters: counters.dlq,
        drainS: projectDrain ? round((projectDrain.at - inputEnd) / 1000, 1) : null,
      },
      latency: { project: projectLatency, kafkaEngine: kafkaEngineLatency, sampledTrades: trades.length },
      processes,
      stackRssBytes,
      liveEfficiency: {
        project: efficiency(
          processedTotal,
          aggregatorCpu + servingCpu,
          'aggregator + ClickHouse HTTP and merge threads',
        ),
        projectConsumerOnly: efficiency(processedTotal, aggregatorCpu, 'aggregator process'),
        kafkaEngine: engineRun
          ? efficiency(
              tradesInKafka,
              engineRun['clickhouse:kafka-engine']?.cpuSeconds ?? 0,
              'ClickHouse schedule-pool and librdkafka threads',
            )
          : null,
      },
      catchUp,
      windows: {
        project: projectWindows.length,
        projectTrades,
        kafkaEngine: kafkaEngineComparison,
        kafkaEngineTrades,
        kafkaEngineWindowsOnly: windowsOnlyComparison,
        naive: naiveComparison,
        spark: sparkComparison,
      },
      liveKafkaEngine: {
        status: ctx.peers.kafkaEngine ? (kafkaEngineError ? 'error' : 'ok') : 'off',
        ...(kafkaEngineError ? { error: kafkaEngineError } : {}),
        consumed: engineConsumed,
        drainS: engineDrain ? round((engineDrain.at - inputEnd) / 1000, 1) : null,
      },
      profiles: files.profiles(ctx.root, ['sim', 'producer', 'aggregator', 'aggregator-catchup']),
      series,
      notes,
    };
  } finally {
    for (const child of children.reverse()) await child.stop(10_000);
    await cleanup(admin, server, names, ctx.say);
    await db.close();
    await server.close();
    await admin.disconnect();
  }
}

async function cleanup(
  admin: Admin,
  server: ClickHouseClient,
  names: Names,
  say: (line: string) => void,
): Promise<void> {
  for (const database of [names.database, names.catchUpDatabase]) {
    try {
      await server.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    } catch (error) {
      say(`could not drop database ${database}: ${message(error)}`);
    }
  }
  try {
    await admin.deleteTopics({ topics: [names.trades, names.depth, names.dlq, names.empty] });
  } catch (error) {
    say(`could not delete the step's topics: ${message(error)}`);
  }
  for (const group of [
    names.group,
    names.kafkaEngineGroup,
    names.catchUpGroup,
    names.catchUpKafkaEngineGroup,
    names.catchUpWindowsOnlyGroup,
    names.naiveGroup,
  ]) {
    // A group that never committed does not exist: nothing to delete.
    await admin.deleteGroups([group]).catch(() => undefined);
  }
}

function progressLine(
  label: string,
  plan: StepPlan,
  series: SeriesPoint[],
  usage: Record<string, { cpuPercent: number }>,
): string {
  const last = series.at(-1);
  const back = series.at(-6) ?? series[0];
  if (!last || !back || last === back) return `${label}: starting`;
  const dt = Math.max(0.001, last.t - back.t);
  const r = (key: 'simFrames' | 'kafkaMessages' | 'processed'): number => Math.round((last[key] - back[key]) / dt);
  const cpu = ['sim', 'producer', 'aggregator', 'kafka', 'clickhouse']
    .map((name) => `${name} ${Math.round(usage[name]?.cpuPercent ?? 0)}%`)
    .join(' ');
  return (
    `${label} ${plan.rate}/s x${plan.symbols}: t=${Math.round(last.t)}s in ${r('simFrames')}/s ` +
    `kafka ${r('kafkaMessages')}/s aggregated ${r('processed')}/s backlog ${last.kafkaMessages - last.processed} | cpu ${cpu}`
  );
}
