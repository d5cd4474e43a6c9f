/**
 * `npm run web`: the chart, API and WebSocket on WEB_PORT (8050). Builds the page first
 * when `web/dist/public` is missing or older than its sources.
 */
import { ConfigError } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { ensureClientBuild } from './client-build.js';
import { readWebConfig } from './config.js';
import { defaultStaticDir, startWebServer } from './web-server.js';

let config;
try {
  config = readWebConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`web: ${error.message}`);
  process.exit(2);
}
const logger = createLogger('web', config.logLevel);
const staticDir = defaultStaticDir();
try {
  await ensureClientBuild(staticDir, logger);
  const server = await startWebServer(config, { logger, staticDir });
  logger.info(
    { url: server.url, clickhouse: config.clickhouse.url, database: config.clickhouse.database },
    `chart at ${server.url}`,
  );
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, 'shutting down');
      void server.close().then(() => process.exit(0));
    });
  }
} catch (error) {
  logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
  process.exit(1);
}
