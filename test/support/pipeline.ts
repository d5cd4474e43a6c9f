/**
 * The real pipeline for end-to-end tests, in this process, on the shared Kafka and
 * ClickHouse with names of its own: simulator (synthetic market) -> producer -> Kafka ->
 * aggregator -> ClickHouse. Records every trade the simulator sent.
 */
import { startAggregator, type Aggregator } from '@candleflow/aggregator/aggregator';
import { parseAggregatorConfig } from '@candleflow/aggregator/config';
import { startSimulator, type Simulator } from '@candleflow/binance-sim/simulator';
import { tradeEventSchema, type TradeEvent } from '@candleflow/common/binance-events';
import { createLogger } from '@candleflow/common/logger';
import { createRegistry } from '@candleflow/common/ops-server';
import { testClickhouseUrl, testKafkaBrokers, uniqueName } from '@candleflow/common/testing';
import { parseProducerConfig } from '@candleflow/producer/config';
import { startProducer, type RunningProducer } from '@candleflow/producer/producer';
import { createClient } from '@clickhouse/client';

export interface Pipeline {
  sim: Simulator;
  /** The producer's metrics. */
  producerRegistry: ReturnType<typeof createRegistry>;
  database: string;
  /** Trades as the simulator sent them, in send order. */
  sent: TradeEvent[];
  /** Stops everything and drops the database. */
  close(): Promise<void>;
}

export async function startPipeline(options: {
  symbols: string[];
  rate: number;
  seed?: number;
  maxMessages?: number;
  /** Trades per symbol the simulator keeps for REST (default its own). */
  tradeRetention?: number;
}): Promise<Pipeline> {
  const name = uniqueName('pipeline');
  const topics = { TOPIC_TRADES: `${name}.trades`, TOPIC_DEPTH: `${name}.depth`, TOPIC_DLQ: `${name}.dlq` };
  const sent: TradeEvent[] = [];
  const producerRegistry = createRegistry('producer');
  const sim = await startSimulator({
    port: 0,
    tradeRetention: options.tradeRetention,
    source: {
      kind: 'synthetic',
      symbols: options.symbols,
      rate: options.rate,
      seed: options.seed ?? 1,
      maxMessages: options.maxMessages,
    },
  });
  sim.on('sent', (stream: string, data: unknown) => {
    if (stream.endsWith('@trade')) sent.push(tradeEventSchema.parse(data));
  });
  let aggregator: Aggregator | undefined;
  let producer: RunningProducer | undefined;
  const close = async (): Promise<void> => {
    await producer?.close();
    await aggregator?.stop();
    await sim.close();
    const admin = createClient({ url: testClickhouseUrl });
    await admin.command({ query: `DROP DATABASE IF EXISTS ${name}` });
    await admin.close();
  };
  try {
    aggregator = await startAggregator(
      parseAggregatorConfig({
        ...topics,
        KAFKA_BROKERS: testKafkaBrokers.join(','),
        CLICKHOUSE_URL: testClickhouseUrl,
        CLICKHOUSE_DB: name,
        GROUP_ID: name,
        AGGREGATOR_PORT: '0',
        AGGREGATOR_HOST: '127.0.0.1',
        // Forming windows reach ClickHouse well within each of the page's 1 s refreshes,
        // so what the page shows changes every refresh even on a loaded machine.
        WINDOW_EMIT_MS: '250',
        SINK_FLUSH_MS: '200',
        LOG_LEVEL: 'warn',
      }),
    );
    producer = await startProducer(
      parseProducerConfig({
        ...topics,
        SYMBOLS: options.symbols.join(','),
        BINANCE_WS_URL: sim.wsUrl,
        BINANCE_REST_URL: sim.restUrl,
        KAFKA_BROKERS: testKafkaBrokers.join(','),
        KAFKA_COMPRESSION: 'lz4',
        LOG_LEVEL: 'warn',
      }),
      { logger: createLogger('producer', 'warn'), registry: producerRegistry },
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { sim, producerRegistry, database: name, sent, close };
}
