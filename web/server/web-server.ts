import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { classifyClickhouseError } from '@candleflow/common/error-classification';
import { retry } from '@candleflow/common/retry';
import { findProjectRoot } from '@candleflow/common/env';
import { createLogger, type Logger } from '@candleflow/common/logger';
import { CandleCache } from './candle-cache.js';
import { ClickhouseSource } from './clickhouse-source.js';
import type { WebConfig } from './config.js';
import { createHttpApp } from './http-app.js';
import { LiveHub } from './live-hub.js';
import { MarketReader } from './market-reader.js';
import { OrderbookService } from './orderbook-service.js';
import { Semaphore } from './semaphore.js';
import { WebMetrics } from './web-metrics.js';

export interface WebServer {
  port: number;
  /** `http://host:port` as a browser on this machine reaches it. */
  url: string;
  close(): Promise<void>;
}

export interface WebServerOptions {
  logger?: Logger;
  /** Folder of the built page; default `web/dist/public` of the project. */
  staticDir?: string;
  /** Apply the ClickHouse migrations at start (retrying until ClickHouse answers); default true. */
  migrate?: boolean;
}

/** At most one warning a minute about rows left out: the same bad rows are read again every second. */
const skippedRowsWarnMs = 60_000;

/** Where `npm run build -w web` puts the page. */
export function defaultStaticDir(): string {
  return path.join(findProjectRoot(), 'web', 'dist', 'public');
}

/** Starts the API, WebSocket and page server; resolves once it listens. */
export async function startWebServer(config: WebConfig, options: WebServerOptions = {}): Promise<WebServer> {
  const logger = options.logger ?? createLogger('web', config.logLevel);
  const metrics = new WebMetrics();
  const source = new ClickhouseSource(config.clickhouse);
  source.onOutcome = (outcome, seconds) => metrics.clickhouseQueries.observe({ outcome }, seconds);
  let skippedWarnedAt = -Infinity;
  source.onSkippedRows = (count, example) => {
    metrics.skippedRows.inc(count);
    if (performance.now() - skippedWarnedAt < skippedRowsWarnMs) return;
    skippedWarnedAt = performance.now();
    logger.warn({ count, example }, 'rows with unusable values in ClickHouse left out of an answer');
  };
  const reader = new MarketReader(source, config.windowSeconds * 1000);
  const orderbooks = new OrderbookService(source, { maxSymbols: config.orderbookCacheSymbols });
  const candles = new CandleCache(reader);
  const app = createHttpApp({
    source,
    reader,
    candles,
    orderbooks,
    metrics,
    logger,
    windowQueries: new Semaphore(config.windowsQueries.concurrency, config.windowsQueries.queue),
    staticDir: options.staticDir ?? defaultStaticDir(),
  });
  const server = http.createServer(app);
  const hub = new LiveHub({
    source,
    reader,
    orderbooks,
    metrics,
    logger,
    intervalMs: config.pushIntervalMs,
    limits: config.ws,
  });
  hub.attach(server);

  const stopping = new AbortController();
  const migrated =
    options.migrate === false ? Promise.resolve() : migrateWhenReachable(config, logger, stopping.signal);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`WEB_PORT ${config.port} is already in use; free it or choose another port`)
          : error,
      );
    });
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;

  return {
    port,
    url,
    async close() {
      stopping.abort();
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await migrated;
      await source.close();
    },
  };
}

/**
 * Creates the schema if it is missing, waiting for ClickHouse to come up if it is not
 * yet. A user that may not change the schema (the read-only user the deployment gives the
 * web) leaves it to the aggregator: the API answers 503 until the tables exist.
 */
async function migrateWhenReachable(config: WebConfig, logger: Logger, signal: AbortSignal): Promise<void> {
  try {
    const applied = await retry(() => migrate({ ...config.clickhouse }), {
      minMs: 1000,
      maxMs: 30_000,
      signal,
      retryable: (error) => classifyClickhouseError(error).kind === 'unavailable',
      onRetry: (error, attempt, delayMs) => {
        if (attempt === 1 || attempt % 12 === 0) {
          logger.warn(
            { err: classifyClickhouseError(error).summary, retryInMs: delayMs },
            'ClickHouse schema not checked yet; retrying',
          );
        }
      },
    });
    if (applied.length > 0) logger.info({ applied }, 'applied ClickHouse migrations');
  } catch (error) {
    if (signal.aborted) return;
    logger.info(
      { err: classifyClickhouseError(error).summary, user: config.clickhouse.username },
      'not applying the ClickHouse schema (this user may not); the aggregator does',
    );
  }
}
