import type { Logger } from '@candleflow/common/logger';
import type { HealthReport } from '@candleflow/common/ops-server';
import type { Registry } from 'prom-client';
import { backoffDelay, retry, type BackoffOptions } from '@candleflow/common/retry';
import { BinanceRest } from './binance-rest.js';
import { BinanceStream } from './binance-stream.js';
import type { ProducerConfig } from './config.js';
import { ensureTopics } from './kafka-topics.js';
import { DELIVERY_REPORTS_PER_TURN, KafkaSink } from './kafka-sink.js';
import { readTradeTail } from './kafka-tail-reader.js';
import { createProducerMetrics } from './metrics.js';
import { Publisher } from './publisher.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { RepairPlanner } from './repair-planner.js';
import { RequestWeightBudget, snapshotWeight } from './request-weight-budget.js';
import { SnapshotFetcher } from './snapshot-fetcher.js';
import { planConnections } from './stream-plan.js';
import { fetchTopUsdtPairs } from './top-symbols.js';
import { TradeContinuity } from './trade-continuity.js';
import { TradeRepairer } from './trade-repairer.js';
import type { SymbolTail } from './trade-tail.js';

export interface RunningProducer {
  symbols: string[];
  health(): HealthReport;
  /** Settles only if reading the streams failed unexpectedly (a bug); the producer is then unusable. */
  failed: Promise<Error>;
  /** Stops reading, flushes Kafka (up to SHUTDOWN_FLUSH_MS); resolves with the messages left unacknowledged. */
  close(): Promise<number>;
}

export interface ProducerDeps {
  logger: Logger;
  registry: Registry;
  /** Aborts a start that is still waiting for Binance or Kafka. */
  signal?: AbortSignal;
}

/**
 * Wires the producer: symbols (resolving `top:N`), Kafka topics, where each symbol's
 * trades stand on the topic, the sink, the REST side (one weight budget for snapshots
 * and trade repairs), one BinanceStream per planned connection, each consumed by the
 * Publisher. Reading the streams pauses while the Kafka queue is above its high-water mark.
 */
export async function startProducer(config: ProducerConfig, deps: ProducerDeps): Promise<RunningProducer> {
  const { logger, registry, signal } = deps;
  const backoff: BackoffOptions = { minMs: config.RECONNECT_MIN_DELAY_MS, maxMs: config.RECONNECT_MAX_DELAY_MS };
  const metrics = createProducerMetrics(registry, [config.TOPIC_TRADES, config.TOPIC_DEPTH]);

  const symbols = await resolveSymbols(config, logger, backoff, signal);
  await ensureTopics(
    {
      brokers: config.KAFKA_BROKERS,
      topics: [config.TOPIC_TRADES, config.TOPIC_DEPTH],
      partitions: config.TOPIC_PARTITIONS,
      replicationFactor: config.TOPIC_REPLICATION_FACTOR,
    },
    { logger, backoff, signal },
  );

  const startedAt = Date.now();
  const tails = await retry(
    () =>
      readTradeTail({
        brokers: config.KAFKA_BROKERS,
        topic: config.TOPIC_TRADES,
        symbols,
        maxPerPartition: config.RESTART_SCAN_MAX_MESSAGES,
        logger,
      }),
    {
      ...backoff,
      signal,
      onRetry: (error, attempt, delay) =>
        logger.warn(
          { attempt },
          `cannot read the end of ${config.TOPIC_TRADES}: ${error.message}; retrying in ${(delay / 1000).toFixed(1)}s`,
        ),
    },
  );

  let streams: BinanceStream[] = [];
  const flowLog = new RateLimitedLog(logger, 30_000);
  const sink = await KafkaSink.connect({
    brokers: config.KAFKA_BROKERS,
    maxQueueMessages: config.MAX_QUEUE_MESSAGES,
    compression: config.KAFKA_COMPRESSION,
    lingerMs: config.KAFKA_LINGER_MS,
    logger,
    metrics,
    // Deliveries are reported only after the publisher below has sent something.
    onDeliveryFailed: (message, reason) => publisher.onDeliveryFailed(message, reason),
    onFlowChange: (paused) => {
      metrics.readingPaused.set(paused ? 1 : 0);
      if (paused) {
        metrics.readingPauses.inc();
        // Under a sustained overload this flips many times a second: one line per 30 s.
        flowLog.warn(
          'pause',
          { queued: sink.queued },
          'Kafka queue at its high-water mark: pausing the Binance streams until it drains',
        );
        for (const stream of streams) stream.pause();
      } else {
        logger.debug({ queued: sink.queued }, 'Kafka queue drained: reading the Binance streams again');
        for (const stream of streams) stream.resume();
      }
    },
  });
  const budget = new RequestWeightBudget(config.REST_WEIGHT_PER_MINUTE);
  const rest = new BinanceRest({ restUrl: config.BINANCE_REST_URL, budget, metrics });
  const snapshots = new SnapshotFetcher({
    rest,
    budget,
    depth: config.SNAPSHOT_DEPTH,
    concurrency: config.SNAPSHOT_CONCURRENCY,
    backoff,
    logger,
    onNoneWaiting: () => repairer.wake(),
  });
  // Repaired trades come in batches that must fit the Kafka queue beside the stream's.
  const batchLimit = Math.max(1, Math.min(1000, Math.floor(config.MAX_QUEUE_MESSAGES / 4)));
  const repairer = new TradeRepairer({
    topic: config.TOPIC_TRADES,
    planner: new RepairPlanner({
      budget,
      // Room for every snapshot in flight at once, within half the budget.
      snapshotReserve: Math.min(
        Math.floor(config.REST_WEIGHT_PER_MINUTE / 2),
        snapshotWeight(config.SNAPSHOT_DEPTH) * config.SNAPSHOT_CONCURRENCY,
      ),
      maxTradesPerSymbol: config.REPAIR_MAX_TRADES_PER_SYMBOL,
      batchLimit,
      retryDelay: (attempt) => backoffDelay(attempt, backoff),
    }),
    rest,
    sink,
    snapshots,
    batchLimit,
    metrics,
    logger,
  });
  const continuity = new TradeContinuity();
  const absent = startFromTails(
    continuity,
    repairer,
    tails,
    startedAt - config.BACKFILL_MINUTES * 60_000,
    config.BACKFILL_MINUTES > 0,
  );
  if (absent.length > 0) {
    logger.info(
      { symbols: absent.length, backfillMinutes: config.BACKFILL_MINUTES },
      config.BACKFILL_MINUTES > 0
        ? `${absent.length} symbols new to ${config.TOPIC_TRADES}: filling their last ${config.BACKFILL_MINUTES} minutes over REST`
        : `${absent.length} symbols new to ${config.TOPIC_TRADES}: starting with the stream (BACKFILL_MINUTES=0)`,
    );
  }
  const publisher = new Publisher({
    topics: { trades: config.TOPIC_TRADES, depth: config.TOPIC_DEPTH },
    sink,
    snapshots,
    continuity,
    repair: repairer,
    metrics,
    logger,
  });

  const plans = planConnections(symbols, config.MAX_STREAMS_PER_CONNECTION);
  logger.info(
    { symbols: symbols.length, connections: plans.length, wsUrl: config.BINANCE_WS_URL, brokers: config.KAFKA_BROKERS },
    `following ${symbols.length} symbols over ${plans.length} connection(s)`,
  );
  streams = plans.map(
    (plan, i) =>
      new BinanceStream({
        wsUrl: config.BINANCE_WS_URL,
        plan,
        name: `${i + 1}/${plans.length}`,
        idleTimeoutMs: config.STREAM_IDLE_TIMEOUT_MS,
        // Acknowledgements reach the sink at the pace frames are read: its queue count stays true.
        framesPerTurn: DELIVERY_REPORTS_PER_TURN,
        renewAfterMs: config.CONNECTION_RENEW_MS,
        backoff,
        logger,
      }),
  );
  // The queue may have filled while the streams were being set up (tail repairs).
  if (sink.flowPaused) for (const stream of streams) stream.pause();
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  const reading = streams.map((stream) =>
    publisher
      .consume(stream)
      .catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error)))),
  );

  const collect = (): void => {
    metrics.queueDepth.set(sink.queued);
    metrics.connectionsUp.set(streams.filter((s) => s.connected).length);
    metrics.kafkaReachable.set(sink.reachable ? 1 : 0);
    repairer.collect();
  };
  const collector = setInterval(collect, 1_000);

  let closing: Promise<number> | undefined;
  return {
    symbols,
    failed,
    health() {
      collect();
      const up = streams.filter((s) => s.connected).length;
      return {
        ok: up === streams.length && sink.reachable,
        checks: {
          connections: `${up}/${streams.length}`,
          kafka: sink.reachable,
          queued: sink.queued,
          symbols: symbols.length,
        },
      };
    },
    close() {
      closing ??= (async () => {
        clearInterval(collector);
        publisher.stop();
        repairer.close();
        snapshots.close();
        rest.close();
        for (const stream of streams) stream.close();
        await Promise.all(reading);
        const left = await sink.close(config.SHUTDOWN_FLUSH_MS);
        if (left > 0)
          logger.warn({ unacknowledged: left }, `${left} messages were not acknowledged by Kafka before exit`);
        return left;
      })();
      return closing;
    },
  };
}

/**
 * Each symbol continues where the topic ends, its open holes repaired; a symbol not on
 * the topic gets its history since `backfillSinceMs` (not before what the tail scan read
 * without finding it), or starts with the stream when `backfill` is off. Returns the
 * symbols not on the topic.
 */
function startFromTails(
  continuity: TradeContinuity,
  repairer: TradeRepairer,
  tails: Map<string, SymbolTail>,
  backfillSinceMs: number,
  backfill: boolean,
): string[] {
  const absent: string[] = [];
  for (const [symbol, tail] of tails) {
    if (tail.kind === 'found') {
      continuity.start(symbol, { kind: 'after', lastId: tail.lastId });
      for (const hole of tail.holes) repairer.addHole(symbol, hole);
      continue;
    }
    absent.push(symbol);
    if (backfill) continuity.start(symbol, { kind: 'since', ms: Math.max(backfillSinceMs, tail.notBeforeMs ?? 0) });
    else continuity.start(symbol, { kind: 'fresh' });
  }
  return absent;
}

async function resolveSymbols(
  config: ProducerConfig,
  logger: Logger,
  backoff: BackoffOptions,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const selection = config.SYMBOLS;
  if (selection.kind === 'list') return selection.symbols;
  return retry(
    async () => {
      const symbols = await fetchTopUsdtPairs(config.BINANCE_REST_URL, selection.count);
      logger.info({ symbols }, `SYMBOLS=top:${selection.count} resolved to ${symbols.length} symbols`);
      return symbols;
    },
    {
      ...backoff,
      signal,
      onRetry: (error, attempt, delay) =>
        logger.warn({ attempt }, `${error.message}; retrying in ${(delay / 1000).toFixed(1)}s`),
    },
  );
}
