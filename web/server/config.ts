import { z } from 'zod';
import { commonEnv, loadEnv, parseEnv, positiveInt } from '@candleflow/common/env';

/** The web server's environment variables, with defaults. */
export const webEnv = {
  CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL,
  CLICKHOUSE_DB: commonEnv.CLICKHOUSE_DB,
  CLICKHOUSE_USER: commonEnv.CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD: commonEnv.CLICKHOUSE_PASSWORD,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  /** 0 picks a free port (tests). */
  WEB_PORT: z.coerce.number().int().min(0).max(65535).default(8050),
  WEB_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:\-_[\]]+$/, 'expected a host name or IP address')
    .default('0.0.0.0'),
  /** How often subscribed pages get new windows, the last trade and the book. */
  WEB_PUSH_INTERVAL_MS: positiveInt.min(100).max(60_000).default(1000),
  /** Time limit of one ClickHouse request; past it the API answers 503 (and ClickHouse stops the query). */
  WEB_CLICKHOUSE_TIMEOUT_MS: positiveInt.min(100).max(300_000).default(5000),
  /** The aggregator's window length: the web reads it too, so candles and ranges line up with the rows. */
  WINDOW_SECONDS: positiveInt.max(86_400).default(10),
  /** WebSocket connections one client address may hold; more are refused with HTTP 429. */
  WEB_WS_MAX_PER_IP: positiveInt.max(1_000_000).default(50),
  /** Messages a second one WebSocket connection may send, sustained; past it the server closes it (1008). */
  WEB_WS_MESSAGE_RATE: positiveInt.max(1000).default(2),
  /** Messages one WebSocket connection may send in a burst before WEB_WS_MESSAGE_RATE applies. */
  WEB_WS_MESSAGE_BURST: positiveInt.max(10_000).default(10),
  /** Bytes queued for one WebSocket client (not yet taken by the network) past which it is disconnected. */
  WEB_WS_MAX_BUFFERED_BYTES: positiveInt
    .min(1024)
    .max(1 << 30)
    .default(1 << 20),
  /** Order books kept in memory (least recently asked for dropped first). */
  WEB_ORDERBOOK_CACHE_SYMBOLS: positiveInt.max(100_000).default(200),
  /** `/api/windows` and `/api/quality` ranges read from ClickHouse at once; more wait in a queue. */
  WEB_WINDOWS_CONCURRENCY: positiveInt.max(1000).default(4),
  /** Such range reads that may wait for a turn; past it the API answers 503 with Retry-After. */
  WEB_WINDOWS_QUEUE: z.coerce.number().int().min(0).max(100_000).default(16),
} as const;

export type WebEnv = z.infer<z.ZodObject<typeof webEnv>>;

export interface WebConfig {
  port: number;
  host: string;
  clickhouse: { url: string; database: string; username: string; password: string; timeoutMs: number };
  pushIntervalMs: number;
  windowSeconds: number;
  ws: { maxPerIp: number; messageRate: number; messageBurst: number; maxBufferedBytes: number };
  orderbookCacheSymbols: number;
  windowsQueries: { concurrency: number; queue: number };
  logLevel: WebEnv['LOG_LEVEL'];
}

export function toWebConfig(env: WebEnv): WebConfig {
  return {
    port: env.WEB_PORT,
    host: env.WEB_HOST,
    clickhouse: {
      url: env.CLICKHOUSE_URL,
      database: env.CLICKHOUSE_DB,
      username: env.CLICKHOUSE_USER,
      password: env.CLICKHOUSE_PASSWORD,
      timeoutMs: env.WEB_CLICKHOUSE_TIMEOUT_MS,
    },
    pushIntervalMs: env.WEB_PUSH_INTERVAL_MS,
    windowSeconds: env.WINDOW_SECONDS,
    ws: {
      maxPerIp: env.WEB_WS_MAX_PER_IP,
      messageRate: env.WEB_WS_MESSAGE_RATE,
      messageBurst: env.WEB_WS_MESSAGE_BURST,
      maxBufferedBytes: env.WEB_WS_MAX_BUFFERED_BYTES,
    },
    orderbookCacheSymbols: env.WEB_ORDERBOOK_CACHE_SYMBOLS,
    windowsQueries: { concurrency: env.WEB_WINDOWS_CONCURRENCY, queue: env.WEB_WINDOWS_QUEUE },
    logLevel: env.LOG_LEVEL,
  };
}

/** Reads the configuration from an explicit environment (tests) or the process and `.env`. */
export function readWebConfig(env?: Record<string, string | undefined>): WebConfig {
  return toWebConfig(env ? parseEnv(webEnv, env) : loadEnv(webEnv));
}
