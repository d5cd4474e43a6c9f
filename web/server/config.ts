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
  /** Time limit of one ClickHouse request; past it the API answers 503. */
  WEB_CLICKHOUSE_TIMEOUT_MS: positiveInt.min(100).max(300_000).default(5000),
} as const;

export type WebEnv = z.infer<z.ZodObject<typeof webEnv>>;

export interface WebConfig {
  port: number;
  host: string;
  clickhouse: { url: string; database: string; username: string; password: string; timeoutMs: number };
  pushIntervalMs: number;
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
    logLevel: env.LOG_LEVEL,
  };
}

/** Reads the configuration from an explicit environment (tests) or the process and `.env`. */
export function readWebConfig(env?: Record<string, string | undefined>): WebConfig {
  return toWebConfig(env ? parseEnv(webEnv, env) : loadEnv(webEnv));
}
