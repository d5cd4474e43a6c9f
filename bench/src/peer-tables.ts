/**
 * The peers' ClickHouse tables, beside the project's in the step's database.
 *
 * ClickHouse's own Kafka engine: a Kafka table on the trades topic and a materialized
 * view that folds each block it reads into per-window partial aggregates
 * (AggregatingMergeTree states); the windows are read back with GROUP BY ... -Merge.
 * Prices and quantities stay exact Decimal(18, 8) (quote volume in Decimal(38, 16)).
 *
 * The naive consumer: one row per trade, prices as the text Binance sent; the windows
 * are a GROUP BY over the raw rows at read time.
 */

export const KAFKA_SOURCE_TABLE = 'peer_kafka_source';
export const KAFKA_WINDOWS_TABLE = 'peer_kafka_windows';
export const KAFKA_VIEW = 'peer_kafka_mv';
export const NAIVE_TRADES_TABLE = 'peer_naive_trades';

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface KafkaPeerSettings {
  database: string;
  brokers: string[];
  topic: string;
  groupId: string;
  windowSeconds: number;
}

/** Statements creating the Kafka-engine peer; it starts reading when the view exists. */
export function kafkaPeerStatements(settings: KafkaPeerSettings): string[] {
  const w = settings.windowSeconds;
  const db = settings.database;
  return [
    `CREATE TABLE ${db}.${KAFKA_WINDOWS_TABLE} (
      symbol String,
      window_start DateTime,
      open AggregateFunction(argMin, Decimal(18, 8), Tuple(UInt64, UInt64)),
      close AggregateFunction(argMax, Decimal(18, 8), Tuple(UInt64, UInt64)),
      high AggregateFunction(max, Decimal(18, 8)),
      low AggregateFunction(min, Decimal(18, 8)),
      volume AggregateFunction(sum, Decimal(18, 8)),
      quote_volume AggregateFunction(sum, Decimal(38, 16)),
      buy_volume AggregateFunction(sum, Decimal(18, 8)),
      trades AggregateFunction(count),
      first_trade_id AggregateFunction(min, UInt64),
      last_trade_id AggregateFunction(max, UInt64)
    ) ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(window_start) ORDER BY (symbol, window_start)`,
    `CREATE TABLE ${db}.${KAFKA_SOURCE_TABLE} (s String, t UInt64, p String, q String, T UInt64, m UInt8)
    ENGINE = Kafka SETTINGS
      kafka_broker_list = ${quote(settings.brokers.join(','))},
      kafka_topic_list = ${quote(settings.topic)},
      kafka_group_name = ${quote(settings.groupId)},
      kafka_format = 'JSONEachRow'`,
    `CREATE MATERIALIZED VIEW ${db}.${KAFKA_VIEW} TO ${db}.${KAFKA_WINDOWS_TABLE} AS
    SELECT
      s AS symbol,
      toDateTime(intDiv(T, ${w * 1000}) * ${w}) AS window_start,
      argMinState(toDecimal64(p, 8), (T, t)) AS open,
      argMaxState(toDecimal64(p, 8), (T, t)) AS close,
      maxState(toDecimal64(p, 8)) AS high,
      minState(toDecimal64(p, 8)) AS low,
      sumState(toDecimal64(q, 8)) AS volume,
      sumState(toDecimal128(p, 8) * toDecimal128(q, 8)) AS quote_volume,
      sumState(if(m = 0, toDecimal64(q, 8), toDecimal64(0, 8))) AS buy_volume,
      countState() AS trades,
      minState(t) AS first_trade_id,
      maxState(t) AS last_trade_id
    FROM ${db}.${KAFKA_SOURCE_TABLE}
    GROUP BY symbol, window_start`,
  ];
}

/** Stops the Kafka-engine peer's consumer (its windows stay). */
export function dropKafkaPeerStatements(database: string): string[] {
  return [`DROP TABLE IF EXISTS ${database}.${KAFKA_VIEW}`, `DROP TABLE IF EXISTS ${database}.${KAFKA_SOURCE_TABLE}`];
}

export function naiveTableStatement(database: string): string {
  return `CREATE TABLE ${database}.${NAIVE_TRADES_TABLE} (
  symbol String,
  trade_id UInt64,
  price String,
  qty String,
  trade_time_ms UInt64,
  is_buyer_maker UInt8
) ENGINE = MergeTree() ORDER BY (symbol, trade_id)`;
}
