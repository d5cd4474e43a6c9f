/**
 * The design candleflow grew from, as a peer: a Spark Structured Streaming job
 * (bench/spark/windows_job.py, PySpark, local[2]) reading the stored trades topic from its
 * start and writing final 10 s windows to ClickHouse. Installed on demand by
 * bench/spark/install.sh into .local/spark; never a product or CI dependency.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { uniqueName } from '@candleflow/common/testing';
import type { CatchUpSetup } from './catch-up.js';
import { SPARK_WINDOWS_TABLE, sparkTableStatement } from './peer-tables.js';
import type { ProcessMeter } from './process-meter.js';
import type { CatchUpFigures } from './results.js';
import { ServiceProcess, describeExit } from './service-process.js';
import {
  NO_PROGRESS,
  addBatch,
  sparkMessageSchema,
  type ReadProgress,
  type SparkJobSettings,
} from './spark-progress.js';
import { SPARK_PROBE_SYMBOL, probeLatency, probeTradeJson, type ProbeTrade } from './spark-probe.js';

interface SparkInstallation {
  python: string;
  jars: string[];
}

const INSTALL_HINT = 'install it with `bash bench/spark/install.sh`';
/** The JVM, the Spark session and the query's start, before the clock runs. */
const START_TIMEOUT_MS = 180_000;
const POLL_MS = 250;
const PROBE_EVERY_MS = 100;
/** How long the probe's last windows may take to show, once the probe has stopped. */
const PROBE_WAIT_MS = 20_000;
/** One state-store partition per core of local[2], instead of Spark's default 200. */
const SHUFFLE_PARTITIONS = 2;

/** The installed peer, or why it cannot run: one line, to skip it with. */
function sparkInstallation(root: string): SparkInstallation | string {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) return `Java is not installed (java -version failed); Spark needs Java 17`;
  const dir = path.join(root, '.local', 'spark');
  const python = path.join(dir, 'venv', 'bin', 'python');
  if (!existsSync(python)) return `PySpark is not installed in .local/spark; ${INSTALL_HINT}`;
  const jarsDir = path.join(dir, 'jars');
  const jars = existsSync(jarsDir) ? readdirSync(jarsDir).filter((f) => f.endsWith('.jar')) : [];
  if (!jars.some((j) => j.startsWith('spark-sql-kafka'))) return `Spark's Kafka source is missing; ${INSTALL_HINT}`;
  return { python, jars: jars.map((j) => path.join(jarsDir, j)) };
}

/** Why the Spark peer cannot run here (no Java, or not installed), or undefined if it can. */
export function sparkSkipReason(root: string): string | undefined {
  const found = sparkInstallation(root);
  return typeof found === 'string' ? found : undefined;
}

/** CPU and RSS of the job's two processes (the Python driver and the JVM it starts) and ClickHouse's serving threads. */
function sparkUsage(meter: ProcessMeter, from: ReturnType<ProcessMeter['mark']>, to: ReturnType<ProcessMeter['mark']>) {
  const usage = meter.usage(from, to);
  const own = ['spark-python', 'spark-jvm'];
  return {
    cpuSeconds:
      own.reduce((sum, name) => sum + (usage[name]?.cpuSeconds ?? 0), 0) +
      (usage['clickhouse:serving']?.cpuSeconds ?? 0),
    maxRssBytes: own.reduce((sum, name) => sum + (usage[name]?.maxRssBytes ?? 0), 0),
  };
}

/**
 * The Spark job alone on the stored trades topic. Measured from the query's start (the
 * JVM's start-up left out, as the project's is) to the end of the micro-batch that read
 * the last trade, or of the last batch within twice `seconds` (Spark reports whole
 * batches only). Then live probe trades time trade -> final row and close the last
 * windows. Windows go to the live run's database, to be compared there.
 */
export async function sparkCatchUp(setup: CatchUpSetup): Promise<CatchUpFigures> {
  const installation = sparkInstallation(setup.root);
  if (typeof installation === 'string') throw new Error(installation);
  const probeTopic = uniqueName('bench_spark_probe');
  const checkpointDir = mkdtempSync(path.join(os.tmpdir(), 'candleflow-spark-'));
  await setup.admin.createTopics({ waitForLeaders: true, topics: [{ topic: probeTopic, numPartitions: 1 }] });
  await setup.db.command({ query: sparkTableStatement(setup.naiveDatabase) });
  const settings: SparkJobSettings = {
    brokers: setup.brokers,
    topics: [setup.tradesTopic, probeTopic],
    clickhouseUrl: setup.clickhouseUrl,
    database: setup.naiveDatabase,
    table: SPARK_WINDOWS_TABLE,
    windowSeconds: setup.windowSeconds,
    graceMs: setup.graceMs,
    shufflePartitions: SHUFFLE_PARTITIONS,
    checkpointDir,
    jars: installation.jars,
  };
  const spawnedAtMs = Date.now();
  const job = new ServiceProcess({
    name: 'spark',
    executable: installation.python,
    entry: path.join(setup.root, 'bench', 'spark', 'windows_job.py'),
    cwd: setup.root,
    logFile: setup.logFile('spark'),
    ipc: true,
    env: { BENCH_SPARK: JSON.stringify(settings), SPARK_LOCAL_IP: '127.0.0.1', PYTHONUNBUFFERED: '1' },
  });
  const { meter } = setup;
  let started: { atMs: number; jvmPid: number } | undefined;
  let failure: string | undefined;
  let progress: ReadProgress = NO_PROGRESS;
  let end: ReturnType<ProcessMeter['mark']> | undefined;
  let batches = 0;
  job.onMessage((raw) => {
    const message = sparkMessageSchema.safeParse(raw);
    if (!message.success) return;
    const m = message.data;
    if (m.type === 'started') started = m;
    else if (m.type === 'failed') failure = m.error;
    else if (m.type === 'batch') {
      batches++;
      const before = progress.rows;
      progress = addBatch(progress, m);
      // CPU up to the end of the batch; later batches (the probe's) are not the catch-up's.
      if (progress.rows > before && before < setup.trades) end = meter.mark(m.atMs);
    }
  });
  const exitedError = async (): Promise<Error | undefined> => {
    const exit = await Promise.race([job.exited, sleep(POLL_MS).then(() => undefined)]);
    return exit ? new Error(`the Spark job exited (${describeExit(exit)}): ${failure ?? job.tail()}`) : undefined;
  };
  try {
    meter.track('spark-python', job.pid);
    const startDeadline = Date.now() + START_TIMEOUT_MS;
    while (!started) {
      const error = await exitedError();
      if (error) throw error;
      if (Date.now() > startDeadline)
        throw new Error(`the Spark job did not start in ${START_TIMEOUT_MS / 1000} s:\n${job.tail()}`);
    }
    meter.track('spark-jvm', started.jvmPid);
    const start = meter.mark();
    const deadline = start.atMs + 2 * setup.seconds * 1000;
    while (progress.rows < setup.trades && Date.now() < deadline) {
      const error = await exitedError();
      if (error) throw error;
      meter.mark(); // an RSS sample
    }
    if (!end || progress.lastDataAtMs === undefined)
      throw new Error(
        `Spark completed no micro-batch with trades in ${2 * setup.seconds} s (its first one reads all ` +
          `${setup.trades} stored trades; a longer --catchup-seconds gives it more time): ${failure ?? job.tail()}`,
      );
    const readSeconds = (progress.lastDataAtMs - start.atMs) / 1000;
    const read = {
      rows: Math.min(progress.rows, setup.trades),
      batches: progress.dataBatches,
      longest: progress.longestMs,
    };
    const catchUpUsage = sparkUsage(meter, start, end);

    const latency = await probe(setup, probeTopic, () => exitedError());
    const peak = sparkUsage(meter, start, meter.mark());
    return {
      status: 'ok',
      messages: read.rows,
      seconds: Math.round(readSeconds * 10) / 10,
      rate: readSeconds > 0 ? Math.round(read.rows / readSeconds) : 0,
      cpuSeconds: Math.round(catchUpUsage.cpuSeconds * 100) / 100,
      msgsPerCpuSecond: catchUpUsage.cpuSeconds > 0 ? Math.round(read.rows / catchUpUsage.cpuSeconds) : 0,
      cpuOf: 'Spark driver JVM + Python driver + ClickHouse HTTP and merge threads',
      maxRssBytes: peak.maxRssBytes,
      probeLatency: latency,
      detail:
        `JVM and query start ${Math.round((started.atMs - spawnedAtMs) / 100) / 10} s (not measured); ` +
        `${read.batches} micro-batch(es) with trades, the longest ${Math.round(read.longest)} ms; ` +
        `${batches} batches in all; peak RSS (JVM + Python) ${Math.round(peak.maxRssBytes / 1024 ** 2)} MiB`,
    };
  } finally {
    await job.stop(20_000);
    meter.untrack('spark-python');
    meter.untrack('spark-jvm');
    await setup.admin.deleteTopics({ topics: [probeTopic] }).catch(() => undefined);
    rmSync(checkpointDir, { recursive: true, force: true });
  }
}

/**
 * Live trades of the probe symbol, one every 100 ms for two windows and the grace, while
 * the probe's rows are polled: when each window's final row became readable.
 */
async function probe(
  setup: CatchUpSetup,
  topic: string,
  exitedError: () => Promise<Error | undefined>,
): Promise<CatchUpFigures['probeLatency']> {
  const windowMs = setup.windowSeconds * 1000;
  const producer = new Kafka({
    clientId: 'bench-spark-probe',
    brokers: setup.brokers,
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const trades: ProbeTrade[] = [];
  const firstSeen = new Map<number, number>();
  let polling = true;
  const poll = async (): Promise<void> => {
    while (polling) {
      const result = await setup.db.query({
        query: `SELECT DISTINCT toUInt32(window_start) AS start FROM ${setup.naiveDatabase}.${SPARK_WINDOWS_TABLE}
          WHERE symbol = '${SPARK_PROBE_SYMBOL}'`,
        format: 'JSONEachRow',
      });
      const at = Date.now();
      for (const row of await result.json<{ start: number | string }>()) {
        const start = Number(row.start) * 1000;
        if (!firstSeen.has(start)) firstSeen.set(start, at);
      }
      await sleep(PROBE_EVERY_MS);
    }
  };
  let pollError: unknown;
  const polls = poll().catch((error: unknown) => {
    pollError = error;
  });
  try {
    const stopAt = Date.now() + 2 * windowMs + setup.graceMs + 1000;
    for (let id = 1; Date.now() < stopAt; id++) {
      const trade = { id, timeMs: Date.now() };
      await producer.send({ topic, messages: [{ key: SPARK_PROBE_SYMBOL, value: probeTradeJson(trade) }] });
      trades.push(trade);
      await sleep(PROBE_EVERY_MS);
    }
    const expected = probeLatency(trades, firstSeen, windowMs, setup.graceMs).finalAfterClose.count;
    const waitUntil = Date.now() + PROBE_WAIT_MS;
    while (Date.now() < waitUntil && firstSeen.size < expected) {
      const error = await exitedError();
      if (error) throw error;
    }
  } finally {
    polling = false;
    await polls;
    await producer.disconnect();
  }
  if (pollError) throw pollError instanceof Error ? pollError : new Error(String(pollError));
  return probeLatency(trades, firstSeen, windowMs, setup.graceMs);
}
