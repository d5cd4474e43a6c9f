import type { Logger } from '@candleflow/common/logger';
import type { HealthReport } from '@candleflow/common/ops-server';
import type { Registry } from 'prom-client';
import { retry, type BackoffOptions } from '@candleflow/common/retry';
import { BinanceStream } from './binance-stream.js';
import type { ProducerConfig } from './config.js';
import { ensureTopics } from './kafka-topics.js';
import { KafkaSink } from './kafka-sink.js';
import { createProducerMetrics } from './metrics.js';
import { Publisher } from './publisher.js';
import { SnapshotFetcher } from './snapshot-fetcher.js';
import { planConnections } from './stream-plan.js';
import { fetchTopUsdtPairs } from './top-symbols.js';

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
 * Wires the producer: symbols (resolving `top:N`), Kafka topics and sink, one
 * BinanceStream per planned connection, each consumed by the Publisher.
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

  const sink = await KafkaSink.connect({
    brokers: config.KAFKA_BROKERS,
    maxQueueMessages: config.MAX_QUEUE_MESSAGES,
    compression: config.KAFKA_COMPRESSION,
    logger,
    metrics,
    // Deliveries are reported only after the publisher below has sent something.
    onDeliveryFailed: (message, reason) => publisher.onDeliveryFailed(message, reason),
  });
  const snapshots = new SnapshotFetcher({
    restUrl: config.BINANCE_REST_URL,
    concurrency: config.SNAPSHOT_CONCURRENCY,
    weightPerMinute: config.SNAPSHOT_WEIGHT_PER_MINUTE,
    backoff,
    logger,
  });
  const publisher = new Publisher({
    topics: { trades: config.TOPIC_TRADES, depth: config.TOPIC_DEPTH },
    sink,
    snapshots,
    metrics,
    logger,
  });

  const plans = planConnections(symbols, config.MAX_STREAMS_PER_CONNECTION);
  logger.info(
    { symbols: symbols.length, connections: plans.length, wsUrl: config.BINANCE_WS_URL, brokers: config.KAFKA_BROKERS },
    `following ${symbols.length} symbols over ${plans.length} connection(s)`,
  );
  const streams = plans.map(
    (plan, i) =>
      new BinanceStream({
        wsUrl: config.BINANCE_WS_URL,
        plan,
        name: `${i + 1}/${plans.length}`,
        idleTimeoutMs: config.STREAM_IDLE_TIMEOUT_MS,
        renewAfterMs: config.CONNECTION_RENEW_MS,
        backoff,
        logger,
      }),
  );
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
        snapshots.close();
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
