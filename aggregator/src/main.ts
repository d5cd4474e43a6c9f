import { ConfigError } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { startAggregator } from './aggregator.js';
import { loadAggregatorConfig } from './config.js';

const logger = createLogger('aggregator');
try {
  const config = loadAggregatorConfig();
  logger.level = config.LOG_LEVEL;
  const aggregator = await startAggregator(config, { logger });
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal; exiting without waiting for writes');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    aggregator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  if (error instanceof ConfigError) logger.fatal(error.message);
  else
    logger.fatal(
      { err: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      'aggregator failed to start',
    );
  process.exit(1);
}
