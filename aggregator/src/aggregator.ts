import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { classifyClickhouseError } from '@candleflow/common/error-classification';
import { Kafka, logLevel, Partitioners, type logCreator } from 'kafkajs';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { registerLz4Codec } from '@candleflow/common/kafkajs-lz4';
import { createLogger, type Logger } from '@candleflow/common/logger';
import { createRegistry, startOpsServer, type HealthReport } from '@candleflow/common/ops-server';
import { retry, type BackoffOptions } from '@candleflow/common/retry';
import { writeBatch } from './batch-writer.js';
import { rowJson, windowRecord } from './clickhouse-records.js';
import { finalWindowsQuery } from './final-windows-query.js';
import { ClickhouseSink } from './clickhouse-sink.js';
import { createDlqPublisher } from './dlq-publisher.js';
import type { AggregatorConfig } from './config.js';
import { AggregatorConsumer } from './kafka-consumer.js';
import { MessageProcessor } from './message-processor.js';
import { createAggregatorMetrics } from './metrics.js';
import { TumblingWindows } from './tumbling-window.js';
import { BatchAccumulator, type WriteBatch } from './write-batch.js';
import { WriteQueue } from './write-queue.js';

export interface Aggregator {
  /** Port of /health and /metrics. */
  port: number;
  health(): HealthReport;
  /** Writes what it holds (open windows as open rows), commits, leaves the group. */
  stop(): Promise<void>;
}

/** How often idle partitions and due batches are checked. */
const TICK_MS = 100;
/** Longer than any dead-letter transaction takes; a crashed instance's open one is aborted after it. */
const DLQ_TRANSACTION_TIMEOUT_MS = 15_000;
/** How long a shutdown waits for writes; what is not written by then is re-read at the next start. */
const SHUTDOWN_WRITE_TIMEOUT_MS = 8000;

function kafkaLogs(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      // A missing topic is expected at start and handled (and logged once) by the consumer.
      if (extra.error === 'This server does not host this topic-partition') logger.debug({ kafka: extra }, message);
      else if (level === logLevel.ERROR) logger.error({ kafka: extra }, message);
      else if (level === logLevel.WARN) logger.warn({ kafka: extra }, message);
      else logger.debug({ kafka: extra }, message);
    };
}

function migrateUntilDone(config: AggregatorConfig, logger: Logger, backoff: BackoffOptions): Promise<void> {
  return retry(
    async () => {
      const applied = await migrate({
        url: config.CLICKHOUSE_URL,
        username: config.CLICKHOUSE_USER,
        password: config.CLICKHOUSE_PASSWORD,
        database: config.CLICKHOUSE_DB,
      });
      if (applied.length > 0) logger.info({ applied }, 'ClickHouse migrations applied');
    },
    {
      ...backoff,
      onRetry: (error, _attempt, delayMs) =>
        logger.warn(
          { err: classifyClickhouseError(error).summary, retryInMs: delayMs },
          'ClickHouse migrations failed; retrying',
        ),
    },
  );
}

/**
 * Starts the aggregator in this process: applies the ClickHouse migrations, joins the
 * consumer group and serves /health and /metrics.
 */
export async function startAggregator(
  config: AggregatorConfig,
  options: { logger?: Logger } = {},
): Promise<Aggregator> {
  const logger = options.logger ?? createLogger('aggregator', config.LOG_LEVEL);
  const registry = createRegistry('aggregator');
  const metrics = createAggregatorMetrics(registry);
  const windowMs = config.WINDOW_SECONDS * 1000;
  const backoff: BackoffOptions = {
    minMs: config.SINK_RETRY_MIN_MS,
    maxMs: Math.max(config.SINK_RETRY_MIN_MS, config.SINK_RETRY_MAX_MS),
  };

  await migrateUntilDone(config, logger, backoff);
  const client = createClient({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DB,
    request_timeout: 15_000,
    json: { parse: JSON.parse, stringify: rowJson },
    // Failures are logged once, with the retry, by the sink.
    log: { level: ClickHouseLogLevel.OFF },
  });
  const sink = new ClickhouseSink(client, { retry: backoff, logger, metrics });
  const engine = new TumblingWindows({ windowMs, graceMs: config.WINDOW_GRACE_MS, idleMs: config.WINDOW_IDLE_MS });
  const accumulator = new BatchAccumulator(
    { batchRows: config.SINK_BATCH_ROWS, flushMs: config.SINK_FLUSH_MS },
    Date.now(),
  );
  const topics = { trades: config.TOPIC_TRADES, depth: config.TOPIC_DEPTH };
  const processor = new MessageProcessor(topics, engine, accumulator, metrics, config.DLQ_MAX_VALUE_BYTES);

  // The producer's batches are lz4-compressed.
  registerLz4Codec();
  const kafka = new Kafka({
    clientId: 'candleflow-aggregator',
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogs(logger),
  });
  // Dead letters are keyed by source topic; any stable partitioner will do.
  // Transactional: dead letters and the offsets of their batch are committed together. The
  // id is new at each start; a crashed instance's open transaction ends by its timeout.
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    transactionalId: `${config.GROUP_ID}-dlq-${randomUUID()}`,
    transactionTimeout: DLQ_TRANSACTION_TIMEOUT_MS,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  let closing = false;
  const closed = new AbortController();
  const publishDeadLetters = createDlqPublisher(producer, {
    topic: config.TOPIC_DLQ,
    groupId: config.GROUP_ID,
    retry: backoff,
    logger,
    metrics,
    maxRequestBytes: config.DLQ_MAX_VALUE_BYTES,
    signal: closed.signal,
  });

  const consumer: AggregatorConsumer = new AggregatorConsumer(kafka, processor, {
    groupId: config.GROUP_ID,
    topics,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    logger,
    metrics,
    loadFinalWindows: async () => {
      const rows = await sink.query<{ symbol: string; start: number }>(finalWindowsQuery);
      for (const row of rows) engine.markFinalThrough(row.symbol, Number(row.start) * 1000);
    },
    afterBatch: () => {
      if (accumulator.isFull()) cut(Date.now());
    },
    onRebalance: () => cut(Date.now()),
  });

  const queue = new WriteQueue<WriteBatch>(
    (batch) =>
      writeBatch(batch, {
        sink,
        topics,
        windowMs,
        metrics,
        commit: async (offsets, deadLetters) => {
          const current = consumer.currentOffsets(offsets);
          if (deadLetters.length === 0) await consumer.commit(current);
          else await publishDeadLetters(deadLetters, current);
        },
      }),
    {
      maxPending: config.SINK_MAX_PENDING_BATCHES,
      onFullChange: (full) => {
        metrics.paused.set(full ? 1 : 0);
        if (full) {
          metrics.pauses.inc();
          logger.warn('writes are behind; pausing reads from Kafka');
          consumer.pause();
        } else {
          logger.info('writes caught up; resuming reads from Kafka');
          // The partitions were quiet because reading was paused, not because trading stopped.
          engine.touchAll(Date.now());
          if (!closing) consumer.resume();
        }
      },
    },
  );

  let lastOpenEmitMs = 0;
  let lastOffsets = '';
  /** Moves the engine's rows and the committable offsets into a write batch. */
  function cut(nowMs: number, everything = false): void {
    if (queue.isFull && !everything) return;
    accumulator.add('trade_windows', engine.takeFinalRows().map(windowRecord));
    if (everything || nowMs - lastOpenEmitMs >= config.WINDOW_EMIT_MS) {
      accumulator.add('trade_windows', engine.takeOpenRows().map(windowRecord));
      lastOpenEmitMs = nowMs;
    }
    accumulator.addLateWindows(engine.takeLateWindows());
    const offsets = consumer.committableOffsets();
    const offsetsKey = JSON.stringify(offsets.map((o) => [o.topic, o.partition, o.offset]));
    if (accumulator.size === 0 && offsetsKey === lastOffsets) return;
    lastOffsets = offsetsKey;
    queue.push(accumulator.cut(offsets, nowMs));
  }

  const health = (): HealthReport => {
    const kafkaHealth = consumer.health;
    return {
      ok: kafkaHealth.ok && sink.isHealthy,
      checks: {
        kafka: kafkaHealth.state,
        partitions: kafkaHealth.partitions,
        clickhouse: sink.isHealthy ? 'ok' : 'unreachable',
        paused: queue.isFull,
        pendingBatches: queue.pending,
        openWindows: engine.openWindowCount(),
      },
    };
  };
  const ops = await startOpsServer({ port: config.AGGREGATOR_PORT, host: config.AGGREGATOR_HOST, registry, health });

  const timer = setInterval(() => {
    const nowMs = Date.now();
    if (!queue.isFull) engine.closeIdle(nowMs);
    if (accumulator.isFull() || accumulator.isDue(nowMs)) cut(nowMs);
    metrics.openWindows.set(engine.openWindowCount());
    metrics.pendingBatches.set(queue.pending);
  }, TICK_MS);

  try {
    await producer.connect();
    await consumer.start();
  } catch (error) {
    clearInterval(timer);
    await ops.close();
    throw error;
  }
  logger.info({ port: ops.port, groupId: config.GROUP_ID, topics }, 'aggregator started');

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await consumer.quiesce();
    cut(Date.now(), true);
    const deadline = new AbortController();
    const written = await Promise.race([
      queue.idle().then(
        () => true,
        () => false,
      ),
      sleep(SHUTDOWN_WRITE_TIMEOUT_MS, false, { signal: deadline.signal }).catch(() => false),
    ]);
    deadline.abort();
    if (!written) logger.warn('stopping with unwritten rows; they are re-read from Kafka at the next start');
    closing = true;
    closed.abort();
    sink.close();
    await consumer.disconnect();
    await producer.disconnect();
    await ops.close();
    await client.close();
    logger.info('aggregator stopped');
  };

  return {
    port: ops.port,
    health,
    stop: () => (stopping ??= stop()),
  };
}
