import { ConfigError } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { createRegistry, startOpsServer } from '@candleflow/common/ops-server';
import { loadProducerConfig, type ProducerConfig } from './config.js';
import { startProducer, type RunningProducer } from './producer.js';

function readConfig(): ProducerConfig {
  try {
    return loadProducerConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`producer: ${error.message}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('producer', config.LOG_LEVEL);
  const registry = createRegistry('producer');
  const starting = new AbortController();
  let producer: RunningProducer | undefined;

  const ops = await startOpsServer({
    port: config.PRODUCER_PORT,
    registry,
    health: () => producer?.health() ?? { ok: false, checks: { starting: true } },
  }).catch((error: unknown) => {
    logger.fatal(
      `cannot serve /health and /metrics on PRODUCER_PORT=${config.PRODUCER_PORT}: ${String(error instanceof Error ? error.message : error)}`,
    );
    process.exit(1);
  });
  logger.info({ port: ops.port }, 'serving /health and /metrics');

  let stopping = false;
  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping: flushing Kafka');
    starting.abort();
    const left = (await producer?.close()) ?? 0;
    await ops.close();
    logger.info({ unacknowledged: left }, 'stopped');
    process.exit(left > 0 && code === 0 ? 1 : code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal, 0));

  try {
    producer = await startProducer(config, { logger, registry, signal: starting.signal });
  } catch (error) {
    // A signal during start: shutdown() is already on its way out.
    if (starting.signal.aborted) return;
    logger.fatal(`producer could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  void producer.failed.then((error) => {
    logger.fatal({ err: error }, 'reading the streams failed');
    void shutdown('failure', 1);
  });
}

await main();
