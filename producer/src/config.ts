import { z } from 'zod';
import { ConfigError, commonEnv, loadEnv, parseEnv, portSchema, positiveInt } from '@candleflow/common/env';
import { SNAPSHOT_DEPTHS } from './request-weight-budget.js';

/** Which symbols to follow: an explicit list, or the N USDT pairs with most 24 h quote volume. */
export type SymbolSelection = { kind: 'list'; symbols: string[] } | { kind: 'top'; count: number };

const symbolPattern = /^[A-Z0-9]{2,20}$/;

/** `BTCUSDT,ethusdt` or `top:10`; symbols are upper-cased and de-duplicated. */
export const symbolsSchema = z
  .string()
  .default('BTCUSDT,ETHUSDT,SOLUSDT')
  .transform((value, ctx): SymbolSelection => {
    const top = /^top:(\d+)$/i.exec(value);
    if (top) {
      const count = Number(top[1]);
      if (count >= 1 && count <= 1000) return { kind: 'top', count };
      ctx.addIssue({ code: 'custom', message: 'top:N needs 1 <= N <= 1000' });
      return z.NEVER;
    }
    const symbols = [...new Set(value.split(',').map((s) => s.trim().toUpperCase()))];
    const bad = symbols.filter((s) => !symbolPattern.test(s));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected comma-separated symbols like BTCUSDT,ETHUSDT or top:N; bad: ${bad.map((s) => JSON.stringify(s)).join(', ')}`,
      });
      return z.NEVER;
    }
    return { kind: 'list', symbols };
  });

const nonNegativeInt = z.coerce.number().int().nonnegative();

export const producerEnv = {
  SYMBOLS: symbolsSchema,
  BINANCE_WS_URL: z.url({ protocol: /^wss?$/ }).default('wss://stream.binance.com:9443'),
  BINANCE_REST_URL: z.url({ protocol: /^https?$/ }).default('https://api.binance.com'),
  KAFKA_BROKERS: commonEnv.KAFKA_BROKERS,
  TOPIC_TRADES: commonEnv.TOPIC_TRADES,
  TOPIC_DEPTH: commonEnv.TOPIC_DEPTH,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  PRODUCER_PORT: portSchema.default(9101),
  TOPIC_PARTITIONS: positiveInt.default(6),
  TOPIC_REPLICATION_FACTOR: positiveInt.default(1),
  // Binance allows 1024 streams per connection; each symbol needs two, kept on one connection.
  MAX_STREAMS_PER_CONNECTION: z.coerce.number().int().min(2).max(1024).default(1024),
  STREAM_IDLE_TIMEOUT_MS: positiveInt.default(30_000),
  // Binance cuts every connection after 24 h; renew well before.
  CONNECTION_RENEW_MS: positiveInt.default(23 * 60 * 60 * 1000),
  RECONNECT_MIN_DELAY_MS: positiveInt.default(1_000),
  RECONNECT_MAX_DELAY_MS: positiveInt.default(30_000),
  MAX_QUEUE_MESSAGES: positiveInt.default(100_000),
  // KafkaJS consumers need an lz4 codec registered to read lz4 batches (gzip they read natively).
  KAFKA_COMPRESSION: z.enum(['lz4', 'gzip', 'snappy', 'zstd', 'none']).default('lz4'),
  // How long librdkafka gathers messages into a batch: longer costs latency, shorter costs CPU
  // in the producer, Kafka and the aggregator (per batch, not per message).
  KAFKA_LINGER_MS: nonNegativeInt.max(1000).default(50),
  SNAPSHOT_CONCURRENCY: positiveInt.default(2),
  // Binance serves these depths only; the weight (5/25/50/250) follows from the depth.
  SNAPSHOT_DEPTH: z.coerce
    .number()
    .int()
    .refine((n) => (SNAPSHOT_DEPTHS as readonly number[]).includes(n), `expected one of ${SNAPSHOT_DEPTHS.join(', ')}`)
    .default(1000),
  // Binance allows 6000 weight a minute per IP, shared by depth snapshots and trade repairs.
  REST_WEIGHT_PER_MINUTE: positiveInt.optional(),
  // Its former name (snapshots only), still read when REST_WEIGHT_PER_MINUTE is not set.
  SNAPSHOT_WEIGHT_PER_MINUTE: positiveInt.optional(),
  REPAIR_MAX_TRADES_PER_SYMBOL: nonNegativeInt.default(2_000_000),
  BACKFILL_MINUTES: nonNegativeInt.default(15),
  RESTART_SCAN_MAX_MESSAGES: positiveInt.default(1_000_000),
  SHUTDOWN_FLUSH_MS: nonNegativeInt.default(10_000),
} as const;

const DEFAULT_REST_WEIGHT_PER_MINUTE = 3_000;

type ParsedConfig = z.infer<z.ZodObject<typeof producerEnv>>;

export type ProducerConfig = Omit<ParsedConfig, 'REST_WEIGHT_PER_MINUTE' | 'SNAPSHOT_WEIGHT_PER_MINUTE'> & {
  REST_WEIGHT_PER_MINUTE: number;
};

/** Validates a given environment (tests, tools). Throws ConfigError naming the variable. */
export function parseProducerConfig(env: Record<string, string | undefined>): ProducerConfig {
  return finish(parseEnv(producerEnv, env));
}

/** Reads `.env` and the process environment. Throws ConfigError naming the variable. */
export function loadProducerConfig(): ProducerConfig {
  return finish(loadEnv(producerEnv));
}

function finish(parsed: ParsedConfig): ProducerConfig {
  const { REST_WEIGHT_PER_MINUTE, SNAPSHOT_WEIGHT_PER_MINUTE, ...rest } = parsed;
  const config = {
    ...rest,
    REST_WEIGHT_PER_MINUTE: REST_WEIGHT_PER_MINUTE ?? SNAPSHOT_WEIGHT_PER_MINUTE ?? DEFAULT_REST_WEIGHT_PER_MINUTE,
  };
  if (config.RECONNECT_MAX_DELAY_MS < config.RECONNECT_MIN_DELAY_MS) {
    throw new ConfigError(
      `invalid configuration: RECONNECT_MAX_DELAY_MS="${config.RECONNECT_MAX_DELAY_MS}": must be >= RECONNECT_MIN_DELAY_MS (${config.RECONNECT_MIN_DELAY_MS})`,
    );
  }
  return config;
}
