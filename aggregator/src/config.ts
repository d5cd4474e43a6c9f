import { commonEnv, loadEnv, parseEnv, positiveInt } from '@candleflow/common/env';
import { z } from 'zod';

const nonNegativeInt = z.coerce.number().int().nonnegative();

/** Every variable the aggregator reads, with its default. */
export const aggregatorEnv = {
  ...commonEnv,
  GROUP_ID: z.string().min(1).default('candleflow-aggregator'),
  WINDOW_SECONDS: positiveInt.max(86_400).default(10),
  WINDOW_GRACE_MS: nonNegativeInt.default(2000),
  WINDOW_IDLE_MS: positiveInt.default(3000),
  /** How often open (still changing) windows are written. */
  WINDOW_EMIT_MS: positiveInt.default(250),
  /** A ClickHouse batch is cut at this many rows... */
  SINK_BATCH_ROWS: positiveInt.default(5000),
  /** ...or this long after the previous one, whichever comes first. */
  SINK_FLUSH_MS: positiveInt.default(200),
  /** Batches cut but not yet written; when full, reading from Kafka pauses. */
  SINK_MAX_PENDING_BATCHES: positiveInt.default(4),
  SINK_RETRY_MIN_MS: positiveInt.default(200),
  SINK_RETRY_MAX_MS: positiveInt.default(5000),
  /**
   * Dead letters' values are cut to this many bytes (a header keeps the original size), so
   * that a message near the broker's limit still fits the DLQ with its headers.
   */
  DLQ_MAX_VALUE_BYTES: z.coerce.number().int().min(1024).default(900_000),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
  /** 0 picks a free port (tests). */
  AGGREGATOR_PORT: z.coerce.number().int().min(0).max(65535).default(9102),
  AGGREGATOR_HOST: z.string().min(1).default('0.0.0.0'),
} as const;

export type AggregatorConfig = z.infer<z.ZodObject<typeof aggregatorEnv>>;

/** Validates an environment; throws a ConfigError naming each bad variable. */
export function parseAggregatorConfig(env: Record<string, string | undefined>): AggregatorConfig {
  return parseEnv(aggregatorEnv, env);
}

/** The process environment plus `.env`, validated. */
export function loadAggregatorConfig(): AggregatorConfig {
  return loadEnv(aggregatorEnv);
}
